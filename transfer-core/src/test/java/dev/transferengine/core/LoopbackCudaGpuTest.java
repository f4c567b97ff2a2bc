package dev.transferengine.core;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.DeviceMemoryConformanceSuite;
import dev.transferengine.testing.CudaTestDevice;
import dev.transferengine.testing.TestDevice;
import org.junit.jupiter.api.Tag;

/** The device-memory suite on loopback with a real GPU: copies on CUDA streams, imms after their events. */
@Tag("gpu")
class LoopbackCudaGpuTest extends DeviceMemoryConformanceSuite {
    @Override
    protected TransferEngine.Builder newEngineBuilder() {
        return TransferEngine.builder().provider("loopback").providerOption("loopback.reorder", "true");
    }

    @Override
    protected TestDevice device() {
        return CudaTestDevice.create();
    }

    @Override
    protected boolean directDeviceTargets() {
        return true;
    }
}
