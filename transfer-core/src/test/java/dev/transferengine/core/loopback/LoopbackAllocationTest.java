package dev.transferengine.core.loopback;

import dev.transferengine.core.LoopbackOptions;
import dev.transferengine.testing.AllocationMeter;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.spi.RegisteredMemory;
import dev.transferengine.testing.CountingSink;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The write path (postWrite, both polls, imm delivery) allocates nothing once warmed up. */
class LoopbackAllocationTest {
    private static final int WARM_UP = 30_000;
    private static final int MEASURED = 100_000;
    /** Far below one object per operation (16+ bytes x 100k): leaves room for stray JVM bookkeeping. */
    private static final long ALLOWED_BYTES = 64 * 1024;

    @ParameterizedTest
    @ValueSource(strings = {"plain", "reorder+delay"})
    void steadyStateWritesAllocateNothing(String mode) {
        AllocationMeter meter = AllocationMeter.forCurrentThread();
        Map<String, String> options = mode.equals("plain") ? Map.of()
                : Map.of(LoopbackOptions.REORDER, "true", LoopbackOptions.DELAY_NANOS, "1");
        try (Arena arena = Arena.ofShared(); ProviderFabric fabric = new LoopbackProvider().open(options, 2)) {
            ProviderDomain writer = fabric.openDomain(fabric.domains().get(0));
            ProviderDomain target = fabric.openDomain(fabric.domains().get(1));
            MemorySegment src = arena.allocate(4096);
            MemorySegment dst = arena.allocate(4096);
            RegisteredMemory local = writer.register(src, false);
            RegisteredMemory remote = target.register(dst, true);
            long peer = writer.resolvePeer(target.address());
            CountingSink writerSink = new CountingSink();
            CountingSink targetSink = new CountingSink();

            writeMany(WARM_UP, writer, target, peer, local, remote, writerSink, targetSink);
            long before = meter.bytes();
            writeMany(MEASURED, writer, target, peer, local, remote, writerSink, targetSink);
            long allocated = meter.bytes() - before;

            assertEquals(WARM_UP + MEASURED, writerSink.completed);
            assertEquals(WARM_UP + MEASURED, targetSink.imms);
            assertEquals(0, writerSink.errors);
            assertTrue(allocated < ALLOWED_BYTES, allocated + " bytes allocated by " + MEASURED + " writes");
        }
    }

    /** Keeps up to 8 writes in flight; each poll drives both sides. */
    private static void writeMany(int count, ProviderDomain writer, ProviderDomain target, long peer,
                                  RegisteredMemory local, RegisteredMemory remote, CountingSink writerSink,
                                  CountingSink targetSink) {
        long goal = writerSink.completed + count;
        long imms = targetSink.imms + count;
        int posted = 0;
        while (writerSink.completed < goal || targetSink.imms < imms) {
            if (posted < count && posted - (writerSink.completed - (goal - count)) < 8) {
                if (writer.postWrite(peer, local, local.address(), 4096, remote.remoteBase(), remote.remoteKey(),
                        true, posted, posted) == ProviderDomain.POSTED) {
                    posted++;
                }
            }
            writer.poll(writerSink, 16);
            target.poll(targetSink, 16);
        }
    }
}
