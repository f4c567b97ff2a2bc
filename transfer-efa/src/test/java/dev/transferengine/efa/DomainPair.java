package dev.transferengine.efa;

import dev.transferengine.testing.RecordingSink;
import dev.transferengine.efa.internal.LibfabricFabric;
import dev.transferengine.efa.internal.LibfabricLibrary;
import dev.transferengine.efa.internal.LibfabricSettings;
import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Two libfabric domains in one process (an initiator A and a target B) with a registered buffer each and
 * peer handles resolved both ways; {@link #pollUntil} drives both CQs, as manual progress requires.
 */
public final class DomainPair implements AutoCloseable {
    public static final Duration DEADLINE = Duration.ofSeconds(60);
    public static final int BUFFER_BYTES = 1 << 20;

    public final LibfabricFabric fabric;
    public final ProviderDomain a;
    public final ProviderDomain b;
    public final Arena arena = Arena.ofShared();
    public final MemorySegment bufA;
    public final MemorySegment bufB;
    public final RegisteredMemory memA;
    public final RegisteredMemory memB;
    public final long peerOfA; // B as seen from A
    public final long peerOfB; // A as seen from B
    public final RecordingSink sinkA = new RecordingSink();
    public final RecordingSink sinkB = new RecordingSink();

    public DomainPair(Map<String, String> options) {
        this(options, BUFFER_BYTES);
    }

    public DomainPair(Map<String, String> options, long bufferBytes) {
        LibfabricSettings settings = LibfabricSettings.from(options);
        fabric = new LibfabricFabric(LibfabricLibrary.load(settings.libraryPath()), settings);
        DomainInfo info = fabric.domains().get(0);
        a = fabric.openDomain(info);
        b = fabric.openDomain(info);
        bufA = arena.allocate(bufferBytes, 4096);
        bufB = arena.allocate(bufferBytes, 4096);
        memA = a.register(bufA, true);
        memB = b.register(bufB, true);
        peerOfA = a.resolvePeer(b.address());
        peerOfB = b.resolvePeer(a.address());
    }

    /** Polls both domains until {@code done} holds; fails the test at the deadline. */
    public void pollUntil(String what, BooleanSupplier done) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!done.getAsBoolean()) {
            a.poll(sinkA, 16);
            b.poll(sinkB, 16);
            if (System.nanoTime() - deadline > 0) {
                fail("timed out waiting for " + what);
            }
            Thread.onSpinWait();
        }
    }

    /** Posts a write from A's buffer to B's, retrying (while polling) on RETRY. */
    public void write(long srcOffset, long length, long dstOffset, long key, boolean withImm, int imm, long context) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (a.postWrite(peerOfA, memA, memA.address() + srcOffset, length, memB.remoteBase() + dstOffset, key,
                withImm, imm, context) == ProviderDomain.RETRY) {
            a.poll(sinkA, 16);
            b.poll(sinkB, 16);
            if (System.nanoTime() - deadline > 0) {
                fail("write kept returning RETRY");
            }
        }
    }

    public void write(long srcOffset, long length, long dstOffset, boolean withImm, int imm, long context) {
        write(srcOffset, length, dstOffset, memB.remoteKey(), withImm, imm, context);
    }

    public static void assertBytes(MemorySegment s, long offset, long length, byte expected) {
        for (long i = 0; i < length; i++) {
            if (s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + i) != expected) {
                assertEquals(expected, s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + i), "byte " + (offset + i));
            }
        }
    }

    @Override
    public void close() {
        a.close();
        b.close();
        fabric.close();
        arena.close();
    }
}
