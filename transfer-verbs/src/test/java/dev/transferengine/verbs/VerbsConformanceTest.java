package dev.transferengine.verbs;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.TransferConformanceSuite;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * The conformance suite, unchanged, on the verbs provider: one and two NICs per group. On a machine with one
 * RDMA device (the Soft-RoCE guest has rxe0 only) the second NIC is a second endpoint on the same port
 * ("rxe0.1"): its own device context, protection domain, queues, keys and address, which is what the engine's
 * striping and per-NIC descriptors exercise.
 *
 * <p>It lives in this module's package, not in {@code dev.transferengine.conformance}: the test sources are
 * compiled into (patched into) the named module {@code dev.transferengine.verbs}, and a package of the
 * named module would hide the suite's package on the class path.
 */
@Tag(SoftRoce.TAG)
class VerbsConformanceTest extends TransferConformanceSuite {
    @BeforeAll
    void requireDevice() {
        SoftRoce.requireDevice();
    }

    @Override
    protected TransferEngine.Builder newEngineBuilder(int nicsPerGroup) {
        return TransferEngine.builder().provider("verbs").groups(1, nicsPerGroup);
    }

    @Override
    protected int[] nicCounts() {
        return new int[] {1, 2};
    }
}
