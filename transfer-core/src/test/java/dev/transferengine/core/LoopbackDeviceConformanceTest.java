package dev.transferengine.core;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.DeviceMemoryConformanceSuite;
import dev.transferengine.testing.TestDevice;

/** Device memory on loopback, with the host-memory device double: loopback copies on the device's queue. */
class LoopbackDeviceConformanceTest extends DeviceMemoryConformanceSuite {
    @Override
    protected TransferEngine.Builder newEngineBuilder() {
        return TransferEngine.builder().provider("loopback").providerOption("loopback.reorder", "true")
                .providerOption("cudaIpc", "false"); // loopback's own device copies; LoopbackIpcDeviceConformanceTest covers IPC
    }

    @Override
    protected TestDevice device() {
        return TestDevice.hostDouble();
    }

    @Override
    protected boolean directDeviceTargets() {
        return true;
    }
}
