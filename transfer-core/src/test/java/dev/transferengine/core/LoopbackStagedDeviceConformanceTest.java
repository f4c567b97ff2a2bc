package dev.transferengine.core;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.DeviceMemoryConformanceSuite;
import dev.transferengine.testing.TestDevice;

/**
 * Device memory on host-only loopback NICs ({@code loopback.deviceMemory=false}), with the host-memory device
 * double: the engine stages device sources through pinned bounce slots, and refuses device targets with the
 * cause.
 */
class LoopbackStagedDeviceConformanceTest extends DeviceMemoryConformanceSuite {
    @Override
    protected TransferEngine.Builder newEngineBuilder() {
        return TransferEngine.builder().provider("loopback").providerOption("loopback.reorder", "true")
                .providerOption("loopback.deviceMemory", "false");
    }

    @Override
    protected TestDevice device() {
        return TestDevice.hostDouble();
    }

    @Override
    protected boolean directDeviceTargets() {
        return false;
    }
}
