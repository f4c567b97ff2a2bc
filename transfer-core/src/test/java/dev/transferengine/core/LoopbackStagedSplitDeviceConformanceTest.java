package dev.transferengine.core;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.DeviceMemoryConformanceSuite;
import dev.transferengine.testing.TestDevice;

/**
 * Staged device memory on host-only loopback domains that take at most 16 KiB per operation: each staged piece
 * (a 64 KiB slot) is itself split by the {@link SplittingDomain} under the {@link StagingDomain}, and the
 * staging decorator still sees one completion per piece it posted.
 */
class LoopbackStagedSplitDeviceConformanceTest extends DeviceMemoryConformanceSuite {
    @Override
    protected TransferEngine.Builder newEngineBuilder() {
        return TransferEngine.builder().provider("loopback").providerOption("loopback.reorder", "true")
                .providerOption("loopback.deviceMemory", "false")
                .providerOption("loopback.maxMessageBytes", "16384");
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
