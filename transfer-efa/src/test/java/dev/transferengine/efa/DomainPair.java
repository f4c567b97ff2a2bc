package dev.transferengine.efa;

import dev.transferengine.efa.internal.LibfabricFabric;
import dev.transferengine.efa.internal.LibfabricLibrary;
import dev.transferengine.efa.internal.LibfabricSettings;
import dev.transferengine.spi.RegisteredMemory;

import java.lang.foreign.MemorySegment;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The shared {@link dev.transferengine.testing.DomainPair} on libfabric: two domains of the first NIC, a registered
 * buffer each, and peer handles resolved both ways; {@link #pollUntil} drives both CQs, as manual progress requires.
 */
public final class DomainPair extends dev.transferengine.testing.DomainPair {
    public static final int BUFFER_BYTES = 1 << 20;

    public final MemorySegment bufA;
    public final MemorySegment bufB;
    public final RegisteredMemory memA;
    public final RegisteredMemory memB;
    public final long peerOfA; // B as seen from A
    public final long peerOfB; // A as seen from B

    public DomainPair(Map<String, String> options) {
        this(options, BUFFER_BYTES);
    }

    public DomainPair(Map<String, String> options, long bufferBytes) {
        this(open(options), bufferBytes);
    }

    private DomainPair(LibfabricFabric fabric, long bufferBytes) {
        super(fabric, fabric.domains().get(0), fabric.domains().get(0));
        bufA = buffer(bufferBytes);
        bufB = buffer(bufferBytes);
        memA = a.register(bufA, true);
        memB = b.register(bufB, true);
        peerOfA = a.resolvePeer(b.address());
        peerOfB = b.resolvePeer(a.address());
    }

    private static LibfabricFabric open(Map<String, String> options) {
        LibfabricSettings settings = LibfabricSettings.from(options);
        return new LibfabricFabric(LibfabricLibrary.load(settings.libraryPath()), settings);
    }

    /** Posts a write from A's buffer to B's, retrying (while polling) on RETRY. */
    public void write(long srcOffset, long length, long dstOffset, long key, boolean withImm, int imm, long context) {
        post(() -> a.postWrite(peerOfA, memA, memA.address() + srcOffset, length, memB.remoteBase() + dstOffset, key,
                withImm, imm, context), "a write that kept returning RETRY");
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
}
