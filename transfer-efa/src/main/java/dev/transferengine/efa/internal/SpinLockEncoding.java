package dev.transferengine.efa.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * How this process's glibc encodes a {@code pthread_spinlock_t}: the word of a free lock and of one just taken. x86-64
 * glibc counts down (free 1, taken 0 or less while others spin); the generic implementation swaps 0 and 1. Learned
 * once by calling {@code pthread_spin_init} and {@code pthread_spin_lock} on a scratch word, so {@link SmrRegion} need
 * not guess. {@link #KNOWN} is false when libc lacks the functions or the answer is not a plain two-valued word.
 */
final class SpinLockEncoding {
    static final int UNLOCKED;
    static final int LOCKED;
    static final boolean KNOWN;

    static {
        int unlocked = 0;
        int locked = 0;
        boolean known = false;
        Optional<MemorySegment> init = Native.LINKER.defaultLookup().find("pthread_spin_init");
        Optional<MemorySegment> lock = Native.LINKER.defaultLookup().find("pthread_spin_lock");
        if (init.isPresent() && lock.isPresent()) {
            MethodHandle spinInit = Native.LINKER.downcallHandle(init.get(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
            MethodHandle spinLock = Native.LINKER.downcallHandle(lock.get(), FunctionDescriptor.of(JAVA_INT, ADDRESS));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment word = arena.allocate(JAVA_INT);
                int rc = (int) spinInit.invokeExact(word, 1); // PTHREAD_PROCESS_SHARED
                unlocked = word.get(JAVA_INT, 0);
                rc |= (int) spinLock.invokeExact(word);
                locked = word.get(JAVA_INT, 0);
                known = rc == 0 && unlocked != locked;
            } catch (Throwable t) {
                known = false;
            }
        }
        UNLOCKED = unlocked;
        LOCKED = locked;
        KNOWN = known;
    }

    private SpinLockEncoding() {
    }
}
