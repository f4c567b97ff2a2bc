package dev.transferengine.efa.internal;

import dev.transferengine.api.ProviderUnavailableException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The loaded {@code libfabric.so.1} and its exported functions (fi_getinfo, fi_dupinfo, fi_freeinfo,
 * fi_fabric, fi_strerror, fi_version). Everything else is reached through ops tables ({@link FiCalls}).
 *
 * <p>One library per process: the first successful {@link #load} wins and later calls get the same
 * instance (or an error if they name a different file). {@link #probe} checks without committing. Loading sets {@code IPATH_NO_BACKTRACE=1} in the
 * C environment first and keeps the JVM's signal handlers (see {@link SignalHandlers}). Thread-safe.
 */
public final class LibfabricLibrary {
    /** Where the AWS EFA installer puts its libfabric. */
    static final String AWS_EFA_LIBRARY = "/opt/amazon/efa/lib/libfabric.so.1";
    static final String SONAME = "libfabric.so.1";

    private static LibfabricLibrary loaded;

    private final String path;
    private final MethodHandle getinfo;
    private final MethodHandle dupinfo;
    private final MethodHandle freeinfo;
    private final MethodHandle fabric;
    private final MethodHandle strerror;
    private final int version;

    private LibfabricLibrary(String path, SymbolLookup lookup) {
        this.path = path;
        this.getinfo = exported(lookup, "fi_getinfo",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
        this.dupinfo = exported(lookup, "fi_dupinfo", FunctionDescriptor.of(ADDRESS, ADDRESS));
        this.freeinfo = exported(lookup, "fi_freeinfo", FunctionDescriptor.ofVoid(ADDRESS));
        this.fabric = exported(lookup, "fi_fabric", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        this.strerror = exported(lookup, "fi_strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        MethodHandle fiVersion = exported(lookup, "fi_version", FunctionDescriptor.of(JAVA_INT));
        try {
            this.version = (int) fiVersion.invokeExact();
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static MethodHandle exported(SymbolLookup lookup, String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = lookup.find(name).orElseThrow(
                () -> new IllegalStateException("exports no " + name + " (not a libfabric library?)"));
        return Native.LINKER.downcallHandle(symbol, descriptor);
    }

    /**
     * Loads libfabric once per process.
     *
     * @param explicitPath a file to load ({@code libfabric.library}), or null to search: {@value #AWS_EFA_LIBRARY}
     *                     when present, then {@value #SONAME} through the dynamic linker's normal search path
     * @throws ProviderUnavailableException saying why when nothing could be loaded (naming the path), when another
     *                                      libfabric is already loaded in this process, or when the JVM lost its
     *                                      SIGSEGV handler and could not get it back
     */
    public static synchronized LibfabricLibrary load(String explicitPath) {
        if (explicitPath != null) {
            requireFile(explicitPath);
        }
        if (loaded != null) {
            requireSame(explicitPath);
            return loaded;
        }
        loaded = open(explicitPath, Arena.global());
        return loaded;
    }

    /**
     * Checks that {@link #load} would succeed, without committing the process to a library: when none is loaded
     * yet, the library is loaded into a closable arena, checked (fi_version, SIGSEGV still the JVM's) and unloaded
     * again ({@code dlclose}), so that an engine may still name another file with {@code libfabric.library} in its
     * provider options. When one is loaded, checks {@code explicitPath} against it.
     *
     * @throws ProviderUnavailableException as {@link #load} would
     */
    public static synchronized void probe(String explicitPath) {
        if (explicitPath != null) {
            requireFile(explicitPath);
        }
        if (loaded != null) {
            requireSame(explicitPath);
            return;
        }
        try (Arena arena = Arena.ofShared()) {
            open(explicitPath, arena);
        }
    }

    /** The library file loaded in this process, or null when none is. */
    public static synchronized String loadedPath() {
        return loaded == null ? null : loaded.path;
    }

    private static LibfabricLibrary open(String explicitPath, Arena arena) {
        // Read by libinfinipath's constructor at dlopen time; without it that constructor takes SIGSEGV.
        Libc.setenv("IPATH_NO_BACKTRACE", "1", false);
        List<String> candidates = candidates(explicitPath);
        List<String> failures = new ArrayList<>();
        for (String candidate : candidates) {
            SymbolLookup lookup;
            try {
                lookup = SignalHandlers.preserving(SignalHandlers.AT_LOAD,
                        () -> SymbolLookup.libraryLookup(candidate, arena));
            } catch (IllegalArgumentException e) {
                failures.add(candidate + ": " + e.getMessage());
                continue;
            }
            if (!SignalHandlers.jvmOwnsSigsegv()) {
                throw new ProviderUnavailableException("after loading " + candidate + " SIGSEGV is handled by "
                        + SignalHandlers.owner(FiConst.Sig.SIGSEGV) + ", not the JVM; refusing to continue", null);
            }
            try {
                return new LibfabricLibrary(candidate, lookup);
            } catch (IllegalStateException e) {
                failures.add(candidate + ": " + e.getMessage());
            }
        }
        if (explicitPath != null) {
            throw new ProviderUnavailableException("libfabric could not be loaded from " + explicitPath
                    + " (libfabric.library / -Dte.libfabric.library / TE_LIBFABRIC_LIBRARY): " + String.join("; ", failures)
                    + ". The file exists but the dynamic linker refused it: check it with `file` (a copied symlink may"
                    + " have become a short text file naming its target) and `ldd` (missing dependencies)", null);
        }
        throw new ProviderUnavailableException("libfabric not found (" + String.join("; ", failures)
                + "): install libfabric1 (Debian/Ubuntu) or the AWS EFA software, or point libfabric.library / "
                + "-Dte.libfabric.library / TE_LIBFABRIC_LIBRARY at libfabric.so.1", null);
    }

    /** A path (not a bare soname the linker searches for) must name an existing file. */
    private static void requireFile(String explicitPath) {
        if (explicitPath.indexOf('/') >= 0 && !Files.isRegularFile(Path.of(explicitPath))) {
            throw new ProviderUnavailableException("libfabric.library names " + explicitPath + ", which "
                    + (Files.exists(Path.of(explicitPath)) ? "is not a regular file" : "does not exist")
                    + " (set with the libfabric.library option, -Dte.libfabric.library or TE_LIBFABRIC_LIBRARY)",
                    null);
        }
    }

    private static void requireSame(String explicitPath) {
        if (explicitPath != null && !samePath(explicitPath, loaded.path)) {
            throw new ProviderUnavailableException("libfabric is already loaded from " + loaded.path
                    + " in this process; cannot also load " + explicitPath + " (libfabric.library): libfabric is loaded"
                    + " once per process, so every engine of a process must use the same library", null);
        }
    }

    private static boolean samePath(String a, String b) {
        if (a.equals(b)) {
            return true;
        }
        try {
            return a.indexOf('/') >= 0 && b.indexOf('/') >= 0 && Files.isSameFile(Path.of(a), Path.of(b));
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    private static List<String> candidates(String explicitPath) {
        if (explicitPath != null) {
            return List.of(explicitPath);
        }
        List<String> c = new ArrayList<>();
        if (Files.exists(Path.of(AWS_EFA_LIBRARY))) {
            c.add(AWS_EFA_LIBRARY);
        }
        c.add(SONAME);
        return c;
    }

    /** The file loaded (or the soname the dynamic linker resolved). */
    public String path() {
        return path;
    }

    /** fi_version() of the loaded library: major in the high 16 bits. */
    public int version() {
        return version;
    }

    /** fi_strerror for a positive FI_* error number. */
    public String strerror(int errnum) {
        try {
            MemorySegment s = (MemorySegment) strerror.invokeExact(Math.abs(errnum));
            return Native.string(s.address());
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    int getinfo(int apiVersion, MemorySegment node, long flags, MemorySegment hints, MemorySegment infoOut) {
        try {
            return (int) getinfo.invokeExact(apiVersion, node, MemorySegment.NULL, flags, hints, infoOut);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    MemorySegment dupinfo(MemorySegment info) {
        try {
            return (MemorySegment) dupinfo.invokeExact(info);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    void freeinfo(MemorySegment info) {
        try {
            freeinfo.invokeExact(info);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    int fabric(MemorySegment fabricAttr, MemorySegment fabricOut) {
        try {
            return (int) fabric.invokeExact(fabricAttr, fabricOut, MemorySegment.NULL);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
