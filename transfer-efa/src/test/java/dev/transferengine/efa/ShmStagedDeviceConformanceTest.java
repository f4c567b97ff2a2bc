package dev.transferengine.efa;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.DeviceMemoryConformanceSuite;
import dev.transferengine.testing.TestDevice;
import org.junit.jupiter.api.BeforeAll;

/**
 * Device memory on libfabric shm without CUDA (Debian's libfabric), with the host-memory device double: the
 * provider cannot register device memory, so the engine stages device sources through pinned bounce slots
 * and refuses device targets with the cause. The real GPU runs the same suite with {@code ./te gpu-test}.
 */
class ShmStagedDeviceConformanceTest extends DeviceMemoryConformanceSuite {
    @BeforeAll
    static void libfabricPresent() {
        TestProviders.assumeLibfabric();
    }

    @Override
    protected TransferEngine.Builder newEngineBuilder() {
        return TransferEngine.builder().provider("shm");
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
