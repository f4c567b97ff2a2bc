package dev.transferengine.efa;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.TransferConformanceSuite;
import org.junit.jupiter.api.BeforeAll;

import java.time.Duration;

/**
 * The conformance suite, unchanged, on libfabric's shm provider.
 *
 * <p>Three tests are skipped, with the reason, because libfabric 1.17's shm provider has no way to tell the writer
 * that the target refused a write: the target drops a refused command without answering it and without any CQ
 * entry, at either end. A write of up to 4 KiB (inline/inject) has already completed at the writer when it was
 * queued; a larger one (CMA) never completes, and the engine's deadline fails it with TIMEOUT. FI_DELIVERY_COMPLETE
 * does not help: it makes zero-length writes hang and turns every refused write into a hang. The target's memory
 * is safe: since issue 9 every shm write carries remote CQ data, so the target checks its key
 * ({@code RefusedWriteTest}, {@code RefusedWriteEngineTest}); only the report is missing. See docs/reliability.md;
 * the tcp run covers these tests.
 *
 * <p>The engines' transfer timeout is 15 s instead of the default 30 s: a refused write over 4 KiB only ends at
 * that deadline (TIMEOUT), and {@code memoryFreedUnderARegistrationIsNeverTouched} waits 30 s for the outcome of
 * an 8 KiB write into freed (hence deregistered) peer memory. Before issue 9 that write went through shm's
 * unchecked fast path into the freed memory.
 */
class ShmConformanceTest extends TransferConformanceSuite {
    @BeforeAll
    static void libfabricPresent() {
        TestProviders.assumeLibfabric();
    }

    @Override
    protected TransferEngine.Builder newEngineBuilder(int nicsPerGroup) {
        return TransferEngine.builder().provider("shm").groups(1, nicsPerGroup)
                .transferTimeout(Duration.ofSeconds(15));
    }

    @Override
    protected int[] nicCounts() {
        return new int[] {1, 2};
    }

    /** libfabric 1.17's shm cannot report a write the target refused to the writer (see the class comment). */
    @Override
    protected boolean reportsRefusedRemoteWrites() {
        return false;
    }
}
