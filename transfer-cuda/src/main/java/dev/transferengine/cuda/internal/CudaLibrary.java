package dev.transferengine.cuda.internal;

import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.spi.Availability;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Loads {@code libcuda.so.1} on first use and probes it once ({@code cuInit(0)}, {@code cuDriverGetVersion},
 * {@code cuDeviceGetCount}), keeping whether CUDA is usable here and, if not, why (Netty's
 * {@code Epoll.isAvailable()/unavailabilityCause()}). Nothing is loaded until a method here is called.
 * Thread-safe: the JVM's class initialisation runs the probe exactly once.
 */
public final class CudaLibrary {
    /** The driver's soname; the dynamic linker finds it wherever the NVIDIA driver put it. */
    public static final String DEFAULT_LIBRARY = "libcuda.so.1";
    /** System property naming another file to load instead. */
    public static final String LIBRARY_PROPERTY = "te.cuda.library";

    private CudaLibrary() {
    }

    /** The loaded library, or why it could not be loaded. Initialised before {@link CudaDriver}'s handles. */
    static final class Loaded {
        static final String PATH = System.getProperty(LIBRARY_PROPERTY, DEFAULT_LIBRARY);
        private static IllegalArgumentException failure;
        static final SymbolLookup LOOKUP = open();
        static final IllegalArgumentException FAILURE = failure;

        private static SymbolLookup open() {
            try {
                return SymbolLookup.libraryLookup(PATH, Arena.global());
            } catch (IllegalArgumentException e) {
                failure = e;
                return null;
            }
        }

        private Loaded() {
        }
    }

    /** The probe's outcome. */
    private record State(int driverVersion, int deviceCount, String reason, Throwable cause) {
        static final State INSTANCE = probe();

        boolean available() {
            return reason == null;
        }
    }

    private static State probe() {
        String library = Loaded.PATH.equals(DEFAULT_LIBRARY) ? DEFAULT_LIBRARY : Loaded.PATH + " (for " + DEFAULT_LIBRARY + ")";
        if (Loaded.LOOKUP == null) {
            return new State(0, 0, "the CUDA driver library " + library + " could not be loaded ("
                    + Loaded.FAILURE.getMessage() + "): install the NVIDIA driver, or set -D" + LIBRARY_PROPERTY
                    + " to the file", Loaded.FAILURE);
        }
        int init;
        try {
            init = CudaDriver.cuInit(0); // first use links every handle: a missing symbol fails here
        } catch (ExceptionInInitializerError | NoClassDefFoundError e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            return new State(0, 0, library + " lacks a function this binding needs (" + cause.getMessage()
                    + "): is it the NVIDIA driver, for CUDA 12.x or later?", cause);
        }
        if (init != CudaConst.Result.CUDA_SUCCESS) {
            CudaErrors.Described d = CudaErrors.describe(init);
            return new State(0, 0, "cuInit(0) in " + library + " failed with " + d.name() + " (" + d.text() + ")",
                    CudaErrors.exception("cuInit(0)", init));
        }
        int version;
        int count;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            CudaErrors.check(CudaDriver.cuDriverGetVersion(out), "cuDriverGetVersion");
            version = out.get(JAVA_INT, 0);
            int r = CudaDriver.cuDeviceGetCount(out);
            count = r == CudaConst.Result.CUDA_SUCCESS ? out.get(JAVA_INT, 0) : 0;
        }
        if (count <= 0) {
            return new State(version, 0, "CUDA driver " + version + " sees no device (CUDA_VISIBLE_DEVICES?)", null);
        }
        return new State(version, count, null, null);
    }

    /** Whether the driver loaded and sees at least one device. Runs the probe on first call. */
    public static boolean isAvailable() {
        return State.INSTANCE.available();
    }

    /** The probe's outcome as the SPI's record. */
    public static Availability availability() {
        State s = State.INSTANCE;
        return s.available() ? Availability.yes() : Availability.no(s.reason(), s.cause());
    }

    /** Why CUDA is unavailable (a fresh exception whose message says what to do), or null when it is available. */
    public static ProviderUnavailableException unavailabilityCause() {
        State s = State.INSTANCE;
        return s.available() ? null : new ProviderUnavailableException(s.reason(), s.cause());
    }

    /** Throws {@link ProviderUnavailableException} with the cause unless CUDA is available. */
    public static void require() {
        if (!State.INSTANCE.available()) {
            throw unavailabilityCause();
        }
    }

    /** {@code cuDriverGetVersion} (for example 13000 for CUDA 13.0); 0 when unavailable. */
    public static int driverVersion() {
        return State.INSTANCE.driverVersion();
    }

    /** {@code cuDeviceGetCount}; 0 when unavailable. */
    public static int deviceCount() {
        return State.INSTANCE.deviceCount();
    }
}
