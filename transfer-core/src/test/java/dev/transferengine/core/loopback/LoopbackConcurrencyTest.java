package dev.transferengine.core.loopback;

import dev.transferengine.core.LoopbackOptions;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.spi.RegisteredMemory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Writers on their own threads write into one target polled on a third thread, as engine workers do.
 * Every imm must arrive exactly once, and the bytes of its write must be visible when it does.
 */
class LoopbackConcurrencyTest {
    private static final int WRITERS = 2;
    private static final int WRITES_PER_WRITER = 10_000;
    private static final int TOTAL = WRITERS * WRITES_PER_WRITER;
    private static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(60);

    /** Counts imms and checks each one's payload the moment it is delivered. */
    private static final class CheckingSink implements CompletionSink {
        private final MemorySegment target;
        final int[] seen = new int[TOTAL];
        int imms;
        int payloadMissing;

        CheckingSink(MemorySegment target) {
            this.target = target;
        }

        @Override
        public void onImm(int imm) {
            seen[imm]++;
            imms++;
            if (target.getAtIndex(ValueLayout.JAVA_LONG, imm) != expectedValue(imm)) {
                payloadMissing++;
            }
        }

        @Override
        public void onComplete(long context) {
            throw new AssertionError("the target posted nothing");
        }

        @Override
        public void onReceive(long context, long lengthBytes) {
            throw new AssertionError("the target posted nothing");
        }

        @Override
        public void onError(long context, TransferException error) {
            throw new AssertionError("the target posted nothing", error);
        }
    }

    private static long expectedValue(int imm) {
        return 0x1234_0000_0000L | imm;
    }

    @ParameterizedTest
    @ValueSource(strings = {"false", "true"})
    void concurrentWritersLandEveryWriteAndEveryImmOnce(String reorder) throws Exception {
        try (Arena arena = Arena.ofShared();
             ProviderFabric fabric = new LoopbackProvider().open(
                     Map.of(LoopbackOptions.REORDER, reorder, LoopbackOptions.QUEUE_DEPTH, "64"), WRITERS + 1)) {
            ProviderDomain target = fabric.openDomain(fabric.domains().get(WRITERS));
            MemorySegment targetMemory = arena.allocate((long) TOTAL * Long.BYTES, 64);
            RegisteredMemory remote = target.register(targetMemory, true);
            CheckingSink targetSink = new CheckingSink(targetMemory);

            List<CompletableFuture<Long>> writers = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                ProviderDomain writer = fabric.openDomain(fabric.domains().get(w));
                MemorySegment source = arena.allocate((long) TOTAL * Long.BYTES, 64);
                for (int imm = 0; imm < TOTAL; imm++) {
                    source.setAtIndex(ValueLayout.JAVA_LONG, imm, expectedValue(imm));
                }
                int first = w * WRITES_PER_WRITER;
                writers.add(CompletableFuture.supplyAsync(() -> runWriter(writer, source, remote,
                        target.address(), first), runnable -> new Thread(runnable, "writer-" + first).start()));
            }

            long deadline = System.nanoTime() + DEADLINE_NANOS;
            while (targetSink.imms < TOTAL && System.nanoTime() - deadline < 0) {
                target.poll(targetSink, 256);
            }
            long completed = 0;
            for (CompletableFuture<Long> writer : writers) {
                completed += writer.get(60, TimeUnit.SECONDS);
            }
            assertEquals(TOTAL, completed, "local completions");
            assertEquals(TOTAL, targetSink.imms, "imms delivered");
            assertEquals(0, targetSink.payloadMissing, "imms delivered before their payload was visible");
            for (int imm = 0; imm < TOTAL; imm++) {
                assertEquals(1, targetSink.seen[imm], "deliveries of imm " + imm);
            }
            target.close();
        }
    }

    /** Posts this writer's writes (one 8-byte word each), polling as it goes; returns its completions. */
    private static long runWriter(ProviderDomain writer, MemorySegment source, RegisteredMemory remote,
                                  dev.transferengine.api.DomainAddress targetAddress, int first) {
        try (writer) {
            RegisteredMemory local = writer.register(source, false);
            long peer = writer.resolvePeer(targetAddress);
            AtomicLong errors = new AtomicLong();
            long[] completed = new long[1];
            CompletionSink sink = new CompletionSink() {
                @Override
                public void onComplete(long context) {
                    completed[0]++;
                }

                @Override
                public void onReceive(long context, long lengthBytes) {
                }

                @Override
                public void onError(long context, TransferException error) {
                    errors.incrementAndGet();
                }

                @Override
                public void onImm(int imm) {
                }
            };
            long deadline = System.nanoTime() + DEADLINE_NANOS;
            for (int imm = first; imm < first + WRITES_PER_WRITER; imm++) {
                long offset = (long) imm * Long.BYTES;
                while (writer.postWrite(peer, local, source.address() + offset, Long.BYTES,
                        remote.remoteBase() + offset, remote.remoteKey(), true, imm, imm) != ProviderDomain.POSTED) {
                    writer.poll(sink, 64);
                    if (System.nanoTime() - deadline > 0) {
                        throw new AssertionError("writer " + first + " stuck at imm " + imm);
                    }
                }
            }
            while (completed[0] + errors.get() < WRITES_PER_WRITER && System.nanoTime() - deadline < 0) {
                writer.poll(sink, 64);
            }
            assertEquals(0, errors.get(), "writer errors");
            return completed[0];
        }
    }
}
