package dev.transferengine.efa;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.TransferConformanceSuite;
import org.junit.jupiter.api.BeforeAll;

import java.time.Duration;

/**
 * The conformance suite, unchanged, on libfabric's shm provider.
 *
 * <p>libfabric 1.17's shm tells nobody when a target refuses a write (no answer, no CQ entry). The refused-write
 * tests pass here because every shm endpoint publishes its registrations ({@code KeyTable}) and the writer checks
 * each write against its peer's before posting it: a stale, forged or out-of-range descriptor fails REMOTE_ACCESS
 * at the writer. Every shm write also carries remote CQ data, so the target checks its key too (the backstop for
 * a deregistration that races a write). See docs/reliability.md.
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
}
