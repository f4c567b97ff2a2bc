package dev.transferengine.efa;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few CUDA driver calls the GPU tests need (allocate, copy both ways, free), bound with FFM to
 * {@code libcuda.so.1}: test-only, so that transfer-efa has no CUDA dependency. Uses the device's primary context,
 * made current on the calling thread by {@link #open}; call {@link #makeCurrent} on any other thread first.
 * Exported names are the {@code _v2} ones the CUDA headers map to.
 */
final class CudaTestDriver implements AutoCloseable {
    private static final Linker LINKER = Linker.nativeLinker();

    private final MethodHandle ctxSetCurrent;
    private final MethodHandle memAlloc;
    private final MethodHandle memFree;
    private final MethodHandle memcpyHtoD;
    private final MethodHandle memcpyDtoH;
    private final MethodHandle primaryCtxRelease;
    private final MethodHandle getErrorString;
    private final int device;
    private final long context;
    final int ordinal;

    private CudaTestDriver(SymbolLookup cuda, int ordinal) {
        this.ordinal = ordinal;
        getErrorString = handle(cuda, "cuGetErrorString", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        ctxSetCurrent = handle(cuda, "cuCtxSetCurrent", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        memAlloc = handle(cuda, "cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        memFree = handle(cuda, "cuMemFree_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        memcpyHtoD = handle(cuda, "cuMemcpyHtoD_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG));
        memcpyDtoH = handle(cuda, "cuMemcpyDtoH_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        primaryCtxRelease = handle(cuda, "cuDevicePrimaryCtxRelease_v2", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        MethodHandle init = handle(cuda, "cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        MethodHandle deviceGet = handle(cuda, "cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        MethodHandle primaryCtxRetain = handle(cuda, "cuDevicePrimaryCtxRetain",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            check((int) init.invokeExact(0), "cuInit");
            MemorySegment dev = arena.allocate(JAVA_INT);
            check((int) deviceGet.invokeExact(dev, ordinal), "cuDeviceGet(" + ordinal + ")");
            device = dev.get(JAVA_INT, 0);
            MemorySegment ctx = arena.allocate(ADDRESS);
            check((int) primaryCtxRetain.invokeExact(ctx, device), "cuDevicePrimaryCtxRetain");
            context = ctx.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        makeCurrent();
    }

    /** Loads the driver and retains device {@code ordinal}'s primary context, current on this thread. */
    static CudaTestDriver open(int ordinal) {
        SymbolLookup cuda = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
        return new CudaTestDriver(cuda, ordinal);
    }

    private static MethodHandle handle(SymbolLookup lookup, String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(lookup.find(name).orElseThrow(
                () -> new IllegalStateException("libcuda.so.1 exports no " + name)), descriptor);
    }

    void makeCurrent() {
        try {
            check((int) ctxSetCurrent.invokeExact(context), "cuCtxSetCurrent");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** cuMemAlloc: a device pointer. */
    long alloc(long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            check((int) memAlloc.invokeExact(out, bytes), "cuMemAlloc_v2(" + bytes + ")");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void free(long devicePointer) {
        try {
            check((int) memFree.invokeExact(devicePointer), "cuMemFree_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Synchronous copy of all of {@code src} (host) to {@code dst} (device). */
    void toDevice(long dst, MemorySegment src) {
        try {
            check((int) memcpyHtoD.invokeExact(dst, src, src.byteSize()), "cuMemcpyHtoD_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Synchronous copy of {@code dst.byteSize()} bytes at {@code src} (device) into {@code dst} (host). */
    void toHost(MemorySegment dst, long src) {
        try {
            check((int) memcpyDtoH.invokeExact(dst, src, dst.byteSize()), "cuMemcpyDtoH_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public void close() {
        try {
            check((int) primaryCtxRelease.invokeExact(device), "cuDevicePrimaryCtxRelease_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private void check(int result, String call) throws Throwable {
        if (result != 0) {
            String text = "?";
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = arena.allocate(ADDRESS);
                if ((int) getErrorString.invokeExact(result, s) == 0) {
                    text = s.get(ADDRESS, 0).reinterpret(Long.MAX_VALUE).getString(0);
                }
            }
            throw new IllegalStateException(call + " failed: CUresult " + result + " (" + text + ")");
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
