package dev.transferengine.kits.kv;

import dev.transferengine.testing.CudaTestDevice;
import dev.transferengine.testing.TestDevice;
import org.junit.jupiter.api.Tag;

/**
 * The KV hand-off into decoder caches in real GPU memory (the GPU suite, {@code ./te gpu-test}): loopback with
 * device copies on CUDA streams, loopback staged through pinned host shadows, and libfabric tcp and shm (HMEM
 * where the loaded libfabric has CUDA, staged otherwise); every page read back from the GPU and checked.
 */
@Tag("gpu")
class KvHandOffCudaGpuTest extends DeviceMemoryKvHandOffTest {
    @Override
    protected TestDevice device() {
        return CudaTestDevice.create();
    }

    /** shm registers GPU memory itself where the loaded libfabric has CUDA (the GPU kit's does), else stages. */
    @Override
    protected Boolean expectedStaged(String setup) {
        return setup.equals("shm") ? null : super.expectedStaged(setup);
    }
}
