package dev.transferengine.core.loopback;

import dev.transferengine.core.LoopbackOptions;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.core.loopback.Fixture.Endpoint;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoopbackFaultInjectionTest {
    private static final int WRITES = 100;

    /** What one run of {@link #writeHundred} observed. */
    record Run(List<Integer> imms, List<Long> completions, byte[] target) {
    }

    /** 100 one-byte writes, write i putting byte i at offset i and carrying imm i. */
    private static Run writeHundred(Map<String, String> options) {
        try (Fixture fixture = new Fixture(options, 2)) {
            Endpoint writer = fixture.get(0);
            Endpoint target = fixture.get(1);
            MemorySegment src = fixture.segment(WRITES, 0);
            MemorySegment dst = fixture.segment(WRITES, 200);
            RegisteredMemory local = Fixture.register(writer, src);
            RegisteredMemory remote = Fixture.register(target, dst);
            long peer = writer.peer(target);
            for (int i = 0; i < WRITES; i++) {
                int imm = i;
                Fixture.postOrFail(() -> writer.domain().postWrite(peer, local, src.address() + imm, 1,
                        remote.remoteBase() + imm, remote.remoteKey(), true, imm, imm), writer);
            }
            fixture.pollUntil(() -> writer.sink().outcomes() == WRITES
                    && target.sink().imms.size() + writer.sink().errors.size() == WRITES, "100 writes");
            return new Run(List.copyOf(target.sink().imms), List.copyOf(writer.sink().completed),
                    dst.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    private static List<Integer> sorted(List<Integer> values) {
        List<Integer> copy = new ArrayList<>(values);
        copy.sort(null);
        return copy;
    }

    @Test
    void inOrderByDefault() {
        Run run = writeHundred(Map.of());
        assertEquals(IntStream.range(0, WRITES).boxed().toList(), run.imms());
        assertEquals(LongStream.range(0, WRITES).boxed().toList(), run.completions());
    }

    @Test
    void reorderScramblesImmsButEveryWriteLands() {
        Run run = writeHundred(Map.of(LoopbackOptions.REORDER, "true", LoopbackOptions.SEED, "42"));
        List<Integer> identity = IntStream.range(0, WRITES).boxed().toList();
        assertEquals(identity, sorted(run.imms()), "each imm exactly once");
        assertNotEquals(identity, run.imms(), "reorder mode must reorder");
        assertNotEquals(LongStream.range(0, WRITES).boxed().toList(), run.completions());
        for (int i = 0; i < WRITES; i++) {
            assertEquals((byte) i, run.target()[i], "byte " + i);
        }
    }

    @Test
    void aSeedReproducesItsOrder() {
        Map<String, String> options = Map.of(LoopbackOptions.REORDER, "true", LoopbackOptions.SEED, "7");
        assertEquals(writeHundred(options).imms(), writeHundred(options).imms());
        assertNotEquals(writeHundred(options).imms(),
                writeHundred(Map.of(LoopbackOptions.REORDER, "true", LoopbackOptions.SEED, "8")).imms());
    }

    @Test
    void failEveryNthFailsExactlyEveryNthWriteWithoutWriting() {
        try (Fixture fixture = new Fixture(Map.of(LoopbackOptions.FAIL_EVERY_NTH, "3"), 2)) {
            Endpoint writer = fixture.get(0);
            Endpoint target = fixture.get(1);
            MemorySegment src = fixture.segment(10, 0);
            MemorySegment dst = fixture.segment(10, 100);
            RegisteredMemory local = Fixture.register(writer, src);
            RegisteredMemory remote = Fixture.register(target, dst);
            for (int i = 0; i < 10; i++) {
                writer.domain().postWrite(writer.peer(target), local, src.address() + i, 1, remote.remoteBase() + i,
                        remote.remoteKey(), true, i, i);
            }
            fixture.pollUntil(() -> writer.sink().outcomes() == 10 && target.sink().imms.size() == 7, "10 writes");

            assertEquals(Set.of(2L, 5L, 8L), writer.sink().errors.keySet(), "writes #3, #6, #9 (contexts 2, 5, 8)");
            writer.sink().errors.values().forEach(e -> {
                assertEquals(ErrorCategory.PROVIDER, e.category());
                assertTrue(e.getMessage().contains("injected"), e.getMessage());
            });
            assertEquals(List.of(0, 1, 3, 4, 6, 7, 9), target.sink().imms);
            byte[] bytes = dst.toArray(ValueLayout.JAVA_BYTE);
            for (int i = 0; i < 10; i++) {
                byte expected = (byte) (i % 3 == 2 ? 100 + i : i);
                assertEquals(expected, bytes[i], "byte " + i);
            }
        }
    }

    @Test
    void delayedOperationsWaitAtLeastTheDelay() {
        long delayNanos = 20_000_000;
        try (Fixture fixture = new Fixture(Map.of(LoopbackOptions.DELAY_NANOS, Long.toString(delayNanos)), 2)) {
            Endpoint writer = fixture.get(0);
            Endpoint target = fixture.get(1);
            RegisteredMemory remote = Fixture.register(target, fixture.segment(8, 0));
            long postedAt = System.nanoTime();
            writer.domain().postWrite(writer.peer(target), null, 0, 0, remote.remoteBase(), remote.remoteKey(),
                    true, 1, 1);
            fixture.pollUntil(() -> target.sink().imms.size() == 1, "the delayed write");
            assertTrue(System.nanoTime() - postedAt >= delayNanos, "applied before its delay");
            assertEquals(List.of(1L), writer.sink().completed);
        }
    }

    @Test
    void aLongDelayHoldsOperationsBack() {
        try (Fixture fixture = new Fixture(Map.of(LoopbackOptions.DELAY_NANOS, "3600000000000"), 2)) {
            Endpoint writer = fixture.get(0);
            Endpoint target = fixture.get(1);
            RegisteredMemory remote = Fixture.register(target, fixture.segment(8, 0));
            assertEquals(ProviderDomain.POSTED, writer.domain().postWrite(writer.peer(target), null, 0, 0,
                    remote.remoteBase(), remote.remoteKey(), true, 1, 1));
            for (int i = 0; i < 1000; i++) {
                writer.poll();
                target.poll();
            }
            assertEquals(0, writer.sink().events() + target.sink().events());
        }
    }
}
