package dev.transferengine.testing;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import java.util.OptionalLong;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Bytes the C heap has handed out and not taken back, from glibc's {@code mallinfo2()}: {@code uordblks}
 * (in-use heap chunks, all arenas) plus {@code hblkhd} (in-use mmap'ed chunks). FFM's
 * {@code Arena.allocate} and every provider library allocate through {@code malloc}, so memory an engine
 * fails to free shows up here; the JDK's {@code BufferPoolMXBean} does not see Arena memory at all.
 * The JVM mallocs too (JIT, class loading), so callers compare over repeated cycles with a tolerance.
 * Empty where the C library has no {@code mallinfo2} (musl, glibc before 2.33).
 */
public final class NativeMemoryProbe {
    private static final StructLayout MALLINFO2 = MemoryLayout.structLayout(
            JAVA_LONG.withName("arena"), JAVA_LONG.withName("ordblks"), JAVA_LONG.withName("smblks"),
            JAVA_LONG.withName("hblks"), JAVA_LONG.withName("hblkhd"), JAVA_LONG.withName("usmblks"),
            JAVA_LONG.withName("fsmblks"), JAVA_LONG.withName("uordblks"), JAVA_LONG.withName("fordblks"),
            JAVA_LONG.withName("keepcost"));
    private static final long HBLKHD = MALLINFO2.byteOffset(MemoryLayout.PathElement.groupElement("hblkhd"));
    private static final long UORDBLKS = MALLINFO2.byteOffset(MemoryLayout.PathElement.groupElement("uordblks"));
    private static final Optional<MethodHandle> MALLINFO = find();

    private NativeMemoryProbe() {
    }

    private static Optional<MethodHandle> find() {
        Linker linker = Linker.nativeLinker();
        return linker.defaultLookup().find("mallinfo2")
                .map(symbol -> linker.downcallHandle(symbol, FunctionDescriptor.of(MALLINFO2)));
    }

    /** Whether the C library has {@code mallinfo2}. */
    public static boolean available() {
        return MALLINFO.isPresent();
    }

    /** Bytes of C heap in use ({@code uordblks + hblkhd}), or empty without {@code mallinfo2}. */
    public static OptionalLong inUseBytes() {
        if (MALLINFO.isEmpty()) {
            return OptionalLong.empty();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = (MemorySegment) MALLINFO.get().invokeExact((java.lang.foreign.SegmentAllocator) arena);
            return OptionalLong.of(info.get(JAVA_LONG, UORDBLKS) + info.get(JAVA_LONG, HBLKHD));
        } catch (Throwable t) {
            throw new AssertionError("mallinfo2 failed", t);
        }
    }
}
