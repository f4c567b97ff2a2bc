package dev.transferengine.core.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few libc calls the engine and providers need, bound once with FFM: {@code setenv} (to set
 * {@code IPATH_NO_BACKTRACE} before libfabric loads), {@code sched_setaffinity} (worker pinning) and
 * {@code errno} capture. Thread-safe: method handles are immutable.
 */
public final class Libc {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(
            java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle SETENV = LINKER.downcallHandle(
            LIBC.find("setenv").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle GETENV = LINKER.downcallHandle(
            LIBC.find("getenv").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle SCHED_SETAFFINITY = LINKER.downcallHandle(
            LIBC.find("sched_setaffinity").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS),
            Linker.Option.captureCallState("errno"));

    private static final MethodHandle PRCTL = LINKER.downcallHandle(
            LIBC.find("prctl").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    private static final int PR_SET_TIMERSLACK = 29;

    /** Bytes of the CPU mask passed to sched_setaffinity: 1024 CPUs, like glibc's cpu_set_t. */
    private static final int CPU_SET_BYTES = 128;

    private Libc() {
    }

    /** {@code setenv(name, value, 1)} in the process environment (visible to native code, not to System.getenv). */
    public static void setenv(String name, String value) {
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) SETENV.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 1);
            if (rc != 0) {
                throw new IllegalStateException("setenv(" + name + ") failed with " + rc);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@code getenv(name)} from the native environment, or null. */
    public static String getenv(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = (MemorySegment) GETENV.invokeExact(arena.allocateFrom(name));
            return p.equals(MemorySegment.NULL) ? null : p.reinterpret(4096).getString(0);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Sets the calling thread's timer slack ({@code prctl(PR_SET_TIMERSLACK)}). Linux lets a timed sleep
     * overrun by the slack, 50 µs by default, so {@code parkNanos(1 µs)} really sleeps about 58 µs; a
     * worker that parks briefly when idle wants a small slack.
     *
     * @return whether it worked; never throws
     */
    public static boolean setTimerSlackNanos(long nanos) {
        try {
            return (int) PRCTL.invokeExact(PR_SET_TIMERSLACK, nanos) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /**
     * Pins the calling thread to {@code cpu}.
     *
     * @return null on success, else the reason it was not possible (errno text); never throws
     */
    public static String pinCurrentThread(int cpu) {
        if (cpu < 0 || cpu >= CPU_SET_BYTES * 8) {
            return "cpu " + cpu + " out of range 0.." + (CPU_SET_BYTES * 8 - 1);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(CPU_SET_BYTES, 8);
            mask.set(ValueLayout.JAVA_BYTE, cpu / 8, (byte) (1 << (cpu % 8)));
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int rc = (int) SCHED_SETAFFINITY.invokeExact(state, 0, (long) CPU_SET_BYTES, mask);
            if (rc != 0) {
                int errno = (int) ERRNO.get(state, 0L);
                return "sched_setaffinity(cpu " + cpu + ") failed: errno " + errno
                        + (errno == 22 ? " (EINVAL: CPU not in this process's allowed set)" : "")
                        + (errno == 1 ? " (EPERM)" : "");
            }
            return null;
        } catch (Throwable t) {
            return "sched_setaffinity unavailable: " + t;
        }
    }
}
