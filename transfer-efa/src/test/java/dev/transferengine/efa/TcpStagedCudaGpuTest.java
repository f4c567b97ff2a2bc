package dev.transferengine.efa;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.DeviceMemoryConformanceSuite;
import dev.transferengine.testing.CudaTestDevice;
import dev.transferengine.testing.TestDevice;
import org.junit.jupiter.api.Tag;

/** The device-memory suite on libfabric tcp without FI_HMEM, with a real GPU: staged through pinned bounce slots. */
@Tag("gpu")
class TcpStagedCudaGpuTest extends DeviceMemoryConformanceSuite {
    @Override
    protected TransferEngine.Builder newEngineBuilder() {
        return TransferEngine.builder().provider("tcp").providerOption("libfabric.hmem", "false");
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
