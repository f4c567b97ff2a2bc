package dev.transferengine.efa.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** The few libc functions the binding needs (setenv, strdup, sigaction, kill, dladdr). Thread-safe. */
final class Libc {
    private static final SymbolLookup LIBC = Native.LINKER.defaultLookup();

    private static final MethodHandle SETENV = bind("setenv", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle GETENV = bind("getenv", FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final MethodHandle STRDUP = bind("strdup", FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final MethodHandle SIGACTION = bind("sigaction",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    /** dladdr moved into libc in glibc 2.34; older systems lack it in the default lookup (then: no owner check). */
    private static final MethodHandle KILL = bind("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle DLADDR = bindOptional("dladdr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));

    private Libc() {
    }

    private static MethodHandle bind(String name, FunctionDescriptor descriptor) {
        MethodHandle h = bindOptional(name, descriptor);
        if (h == null) {
            throw new IllegalStateException("libc has no " + name);
        }
        return h;
    }

    private static MethodHandle bindOptional(String name, FunctionDescriptor descriptor) {
        Optional<MemorySegment> symbol = LIBC.find(name);
        return symbol.map(s -> Native.LINKER.downcallHandle(s, descriptor)).orElse(null);
    }

    /** setenv(name, value, overwrite): changes the C environment that native libraries read. */
    static void setenv(String name, String value, boolean overwrite) {
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) SETENV.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), overwrite ? 1 : 0);
            if (rc != 0) {
                throw new IllegalStateException("setenv(" + name + ") failed");
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** getenv of the live C environment ({@link System#getenv} is a snapshot taken at JVM start). */
    static String getenv(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = (MemorySegment) GETENV.invokeExact(arena.allocateFrom(name));
            return Native.string(p.address());
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * A malloc'ed copy of {@code s}. Strings stored into libfabric-owned structs must come from here:
     * fi_freeinfo frees them with free().
     */
    static MemorySegment strdup(String s) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = (MemorySegment) STRDUP.invokeExact(arena.allocateFrom(s));
            if (p.address() == 0) {
                throw new OutOfMemoryError("strdup");
            }
            return p;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** sigaction(signal, act, old); {@code act} or {@code old} may be {@link MemorySegment#NULL}. */
    /**
     * Whether a process with this pid exists ({@code kill(pid, 0) == 0}). A zombie (killed, not yet reaped by its
     * parent) still exists; a pid of another user answers EPERM, read here as "gone" (shm peers share a uid).
     */
    static boolean processExists(int pid) {
        try {
            return (int) KILL.invokeExact(pid, 0) == 0;
        } catch (Throwable t) {
            throw new IllegalStateException("kill(" + pid + ", 0)", t);
        }
    }

    static int sigaction(int signal, MemorySegment act, MemorySegment old) {
        try {
            return (int) SIGACTION.invokeExact(signal, act, old);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The file name of the loaded object containing {@code address}, or null when unknown. */
    static String objectContaining(long address) {
        if (DLADDR == null || address == 0) {
            return null;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(FiLayouts.DL_INFO);
            int rc = (int) DLADDR.invokeExact(MemorySegment.ofAddress(address), info);
            return rc == 0 ? null : Native.string(info.get(JAVA_LONG, FiLayouts.DL_INFO_FNAME));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
