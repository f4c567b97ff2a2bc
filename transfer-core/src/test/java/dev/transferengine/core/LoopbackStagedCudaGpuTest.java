package dev.transferengine.core;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.DeviceMemoryConformanceSuite;
import dev.transferengine.testing.CudaTestDevice;
import dev.transferengine.testing.TestDevice;
import org.junit.jupiter.api.Tag;

/** The device-memory suite on host-only loopback NICs with a real GPU: staging through pinned bounce slots. */
@Tag("gpu")
class LoopbackStagedCudaGpuTest extends DeviceMemoryConformanceSuite {
    @Override
    protected TransferEngine.Builder newEngineBuilder() {
        return TransferEngine.builder().provider("loopback").providerOption("loopback.deviceMemory", "false");
    }

    @Override
    protected TestDevice device() {
        return CudaTestDevice.create();
    }

    @Override
    protected boolean directDeviceTargets() {
        return false;
    }
}
