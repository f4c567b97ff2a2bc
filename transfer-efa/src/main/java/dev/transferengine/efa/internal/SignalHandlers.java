package dev.transferengine.efa.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Keeps the JVM's signal handlers in place across native calls that replace them.
 *
 * <p>HotSpot uses SIGSEGV internally (safepoint polls, implicit null checks). Debian's libfabric pulls in
 * libinfinipath, whose load-time constructor installs backtrace-and-exit handlers for SIGSEGV, SIGBUS,
 * SIGILL, SIGABRT, SIGINT and SIGTERM (unless {@code IPATH_NO_BACKTRACE} is set); the shm provider installs
 * one-shot SIGSEGV/SIGBUS handlers that unlink its shared memory on the JVM's first internal fault, after
 * which other processes can no longer reach this one. So: save the handlers, run the call, put back any
 * that changed. Thread-safe as far as sigaction is (the guarded calls are rare and not concurrent with
 * themselves: callers hold the library or fabric lock).
 */
public final class SignalHandlers {
    /** What dlopen of libfabric may replace. */
    static final int[] AT_LOAD = {FiConst.Sig.SIGSEGV, FiConst.Sig.SIGBUS, FiConst.Sig.SIGILL, FiConst.Sig.SIGFPE,
            FiConst.Sig.SIGABRT, FiConst.Sig.SIGINT, FiConst.Sig.SIGTERM, FiConst.Sig.SIGHUP, FiConst.Sig.SIGQUIT};
    /**
     * What endpoint creation may replace and we must keep. shm's SIGINT/SIGTERM handlers are left alone:
     * they unlink shm files and then chain to the JVM's, which is what an orderly shutdown wants.
     */
    static final int[] AT_ENDPOINT = {FiConst.Sig.SIGSEGV, FiConst.Sig.SIGBUS};

    private SignalHandlers() {
    }

    /** Every signal whose handler a guarded call replaced and we put back, in order, process-wide. */
    private static final List<Integer> RESTORED = new ArrayList<>();

    /** Runs {@code call}, then restores every handler in {@code signals} that it replaced. */
    static <T> T preserving(int[] signals, Supplier<T> call) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] saved = new MemorySegment[signals.length];
            for (int i = 0; i < signals.length; i++) {
                saved[i] = arena.allocate(FiLayouts.SIGACTION.byteSize() + FiLayouts.INPUT_HEADROOM_BYTES, 16);
                Libc.sigaction(signals[i], MemorySegment.NULL, saved[i]);
            }
            try {
                return call.get();
            } finally {
                MemorySegment now = arena.allocate(FiLayouts.SIGACTION.byteSize() + FiLayouts.INPUT_HEADROOM_BYTES, 16);
                for (int i = 0; i < signals.length; i++) {
                    Libc.sigaction(signals[i], MemorySegment.NULL, now);
                    if (changed(saved[i], now)) {
                        Libc.sigaction(signals[i], saved[i], MemorySegment.NULL);
                        synchronized (RESTORED) {
                            RESTORED.add(signals[i]);
                        }
                    }
                }
            }
        }
    }

    private static boolean changed(MemorySegment before, MemorySegment after) {
        return before.get(JAVA_LONG, FiLayouts.SIGACTION_HANDLER) != after.get(JAVA_LONG, FiLayouts.SIGACTION_HANDLER)
                || before.get(JAVA_INT, FiLayouts.SIGACTION_FLAGS) != after.get(JAVA_INT, FiLayouts.SIGACTION_FLAGS);
    }

    /** The current handler's address for {@code signal} (0 = SIG_DFL, 1 = SIG_IGN). */
    static long handler(int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment now = arena.allocate(FiLayouts.SIGACTION.byteSize() + FiLayouts.INPUT_HEADROOM_BYTES, 16);
            Libc.sigaction(signal, MemorySegment.NULL, now);
            return now.get(JAVA_LONG, FiLayouts.SIGACTION_HANDLER);
        }
    }

    /**
     * Which loaded object owns the handler of {@code signal}: a file name such as
     * {@code .../lib/server/libjvm.so}, {@code "SIG_DFL"}, {@code "SIG_IGN"}, or null when dladdr cannot say.
     */
    public static String owner(int signal) {
        long h = handler(signal);
        if (h == 0) {
            return "SIG_DFL";
        }
        if (h == 1) {
            return "SIG_IGN";
        }
        return Libc.objectContaining(h);
    }

    /** True when the JVM (libjvm) handles SIGSEGV, as HotSpot requires; also true when dladdr cannot tell. */
    public static boolean jvmOwnsSigsegv() {
        String owner = owner(FiConst.Sig.SIGSEGV);
        return owner == null || owner.contains("libjvm");
    }

    /**
     * The signals (numbers, in order) whose handlers libfabric replaced and this class restored so far in this
     * process: shm's first endpoint shows up as SIGSEGV and SIGBUS; loading libfabric without
     * IPATH_NO_BACKTRACE as SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGINT, SIGTERM.
     */
    public static List<Integer> restoredSoFar() {
        synchronized (RESTORED) {
            return List.copyOf(RESTORED);
        }
    }
}
