package dev.transferengine.verbs;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.kits.kv.KvDecoder;
import dev.transferengine.kits.kv.KvHandOffSuite;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

import java.time.Duration;

/**
 * The KV-cache hand-off kit's suite ({@code transfer-kits}' test-jar), unchanged, on the verbs provider in the
 * Soft-RoCE guest: every prefill and decode rank is an engine of its own in this JVM with two NICs, which on the
 * guest's single device are two endpoints on rxe0 ("rxe0", "rxe0.1"), as in {@link VerbsConformanceTest}. The
 * suite's multi-process test ({@code KvMultiProcessTest}, a child JVM per side) is not run here: the guest
 * harness runs one forked test JVM.
 */
@Tag(SoftRoce.TAG)
class VerbsKvHandOffTest extends KvHandOffSuite {
    @BeforeAll
    static void requireDevice() {
        SoftRoce.requireDevice();
    }

    @Override
    protected TransferEngine.Builder engine(String name) {
        // The guest runs under TCG (4-30x slower): a generous transfer timeout, as the shm suite uses.
        return TransferEngine.builder().provider("verbs").groups(1, 2).transferTimeout(Duration.ofSeconds(30));
    }

    /**
     * A 5 s heartbeat timeout instead of the suite's 600 ms: in the guest a live prefiller was seen silent for
     * 632 ms (TCG, C1 only, serial GC), so the suite's timeout reported the wrong rank lost.
     */
    @Override
    protected KvDecoder.Options silentPrefillerOptions() {
        return new KvDecoder.Options(Duration.ofMillis(100), Duration.ofSeconds(5), 0x4B56_0000);
    }
}
