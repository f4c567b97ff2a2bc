package dev.transferengine.efa;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.TransferConformanceSuite;
import org.junit.jupiter.api.BeforeAll;

/** The conformance suite, unchanged, on libfabric's shm provider. */
class ShmConformanceTest extends TransferConformanceSuite {
    @BeforeAll
    static void libfabricPresent() {
        TestProviders.assumeLibfabric();
    }

    @Override
    protected TransferEngine.Builder newEngineBuilder(int nicsPerGroup) {
        return TransferEngine.builder().provider("shm").groups(1, nicsPerGroup);
    }

    @Override
    protected int[] nicCounts() {
        return new int[] {1, 2};
    }
}
