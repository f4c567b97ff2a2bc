package dev.transferengine.core;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.DeviceMemoryConformanceSuite;
import dev.transferengine.testing.TestDevice;

/**
 * Device memory on loopback domains that take at most 16 KiB per operation: writes from and into registered
 * device memory go out in pieces ({@link SplittingDomain}).
 */
class LoopbackSplitDeviceConformanceTest extends DeviceMemoryConformanceSuite {
    @Override
    protected TransferEngine.Builder newEngineBuilder() {
        return TransferEngine.builder().provider("loopback").providerOption("loopback.reorder", "true")
                .providerOption("loopback.maxMessageBytes", "16384");
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
