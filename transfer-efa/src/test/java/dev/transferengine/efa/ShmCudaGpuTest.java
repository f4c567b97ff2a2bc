package dev.transferengine.efa;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.DeviceMemoryConformanceSuite;
import dev.transferengine.testing.CudaTestDevice;
import dev.transferengine.testing.TestDevice;
import org.junit.jupiter.api.Tag;

/**
 * The device-memory suite on libfabric shm with a real GPU and a CUDA-enabled libfabric ({@code
 * te.libfabric.library}, set by {@code ./te gpu-test} from the kit): device memory registered with FI_HMEM.
 */
@Tag("gpu")
class ShmCudaGpuTest extends DeviceMemoryConformanceSuite {
    @Override
    protected TransferEngine.Builder newEngineBuilder() {
        return TransferEngine.builder().provider("shm");
    }

    @Override
    protected TestDevice device() {
        return CudaTestDevice.create();
    }

    @Override
    protected boolean deviceTargets() {
        return true;
    }
}
