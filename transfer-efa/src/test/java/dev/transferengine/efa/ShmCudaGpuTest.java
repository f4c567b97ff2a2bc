package dev.transferengine.efa;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.DeviceMemoryConformanceSuite;
import dev.transferengine.testing.CudaTestDevice;
import dev.transferengine.testing.TestDevice;
import org.junit.jupiter.api.Tag;

/**
 * The device-memory suite on libfabric shm with a real GPU and a CUDA-enabled libfabric ({@code
 * te.libfabric.library}, set by {@code ./te gpu-test} from the kit): device memory registered with FI_HMEM, in
 * one process (without FI_HMEM_DEVICE_ONLY; {@link TwoProcessGpuTest} covers the IPC path between processes).
 */
@Tag("gpu")
class ShmCudaGpuTest extends DeviceMemoryConformanceSuite {
    @Override
    protected TransferEngine.Builder newEngineBuilder() {
        // Both engines live in this process: shm's CUDA IPC cannot open a handle of its own process.
        return TransferEngine.builder().provider("shm").providerOption("libfabric.hmemDeviceOnly", "false");
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
