package dev.transferengine.kits.weights;

import dev.transferengine.testing.CudaTestDevice;
import dev.transferengine.testing.TestDevice;
import org.junit.jupiter.api.Tag;

/**
 * The weight push into inference ranks' weights in real GPU memory (the GPU suite, {@code ./te gpu-test}):
 * loopback copies on CUDA streams, every byte read back from the GPU and checked against the schedule.
 */
@Tag("gpu")
class WeightPushCudaGpuTest extends DeviceMemoryWeightPushTest {
    @Override
    protected TestDevice device() {
        return CudaTestDevice.create();
    }
}
