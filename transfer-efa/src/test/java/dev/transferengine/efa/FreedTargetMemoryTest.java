package dev.transferengine.efa;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import dev.transferengine.spi.RegisteredMemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A target whose remote-writable memory is freed while still registered must not let a peer's write land in
 * whatever the allocator put there next. Regression: the conformance test "memoryFreedUnderARegistrationIsNeverTouched"
 * made tcp write 8 KiB into a freed malloc chunk, and the JVM later crashed in {@code _int_malloc}.
 */
class FreedTargetMemoryTest {

    @BeforeAll
    static void libfabricPresent() {
        TestProviders.assumeLibfabric();
    }

    @ParameterizedTest
    @EnumSource(value = TestProviders.class, names = {"TCP", "TCP_EFA_PATHS"})
    void aWriteIntoFreedTargetMemoryNeverLandsInItsNextUse(TestProviders p) {
        try (DomainPair d = new DomainPair(p.options)) {
            long bytes = 256 * 1024;
            Arena doomed = Arena.ofShared();
            MemorySegment freedSoon = doomed.allocate(bytes, 4096);
            RegisteredMemory target = d.b.register(freedSoon, true);
            long freedAddress = freedSoon.address();
            d.b.poll(d.sinkB, 16);
            doomed.close();
            // The allocator hands the same block out again (same size, nothing in between): this is the "next use".
            try (Arena reuse = Arena.ofConfined()) {
                MemorySegment next = reuse.allocate(bytes, 4096);
                LibfabricDomainTest.fill(next, 0, bytes, (byte) 0x11);
                LibfabricDomainTest.fill(d.bufA, 0, 8192, (byte) 0x77);
                d.write(0, 8192, target.remoteBase(), target.remoteKey(), false, 0, 61);
                d.pollUntil(() -> d.sinkA.finished(61), "outcome of the write into freed memory");
                DomainPair.assertBytes(next, 0, bytes, (byte) 0x11);
                assertTrue(d.sinkA.errors.containsKey(61L), "the write must fail, not land: reused="
                        + (next.address() == freedAddress));
            }
        }
    }
}
