package dev.transferengine.cuda.internal;

import dev.transferengine.api.TransferTimeoutException;
import dev.transferengine.cuda.PointerInfo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongToIntFunction;

import static dev.transferengine.cuda.internal.CudaConst.PointerAttribute.CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL;
import static dev.transferengine.cuda.internal.CudaConst.PointerAttribute.CU_POINTER_ATTRIBUTE_IS_MANAGED;
import static dev.transferengine.cuda.internal.CudaConst.PointerAttribute.CU_POINTER_ATTRIBUTE_MEMORY_TYPE;
import static dev.transferengine.cuda.internal.CudaConst.PointerAttribute.CU_POINTER_ATTRIBUTE_RANGE_SIZE;
import static dev.transferengine.cuda.internal.CudaConst.PointerAttribute.CU_POINTER_ATTRIBUTE_RANGE_START_ADDR;
import static dev.transferengine.cuda.internal.CudaConst.Result.CUDA_ERROR_NOT_READY;
import static dev.transferengine.cuda.internal.CudaConst.Result.CUDA_SUCCESS;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Driver calls with their out-parameters allocated and their results checked
 * ({@link dev.transferengine.cuda.CudaException} on
 * failure). No argument validation and no context switching happen here: callers validate in Java first
 * and make the right context current. Thread-safe.
 *
 * @see dev.transferengine.cuda.CudaException
 */
public final class DriverCalls {
    /** Spins this long on a query before parking between polls. */
    private static final long SPIN_NANOS = 50_000;
    private static final long MAX_PARK_NANOS = 100_000;
    private static final int[] POINTER_ATTRIBUTES = {CU_POINTER_ATTRIBUTE_MEMORY_TYPE, CU_POINTER_ATTRIBUTE_IS_MANAGED,
            CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, CU_POINTER_ATTRIBUTE_RANGE_START_ADDR, CU_POINTER_ATTRIBUTE_RANGE_SIZE};

    private DriverCalls() {
    }

    static long retainPrimaryContext(int ordinal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            CudaErrors.check(CudaDriver.cuDeviceGet(out, ordinal), "cuDeviceGet(" + ordinal + ")");
            int device = out.get(JAVA_INT, 0);
            CudaErrors.check(CudaDriver.cuDevicePrimaryCtxRetain(out, device), "cuDevicePrimaryCtxRetain(" + ordinal + ")");
            return out.get(JAVA_LONG, 0);
        }
    }

    public static String deviceName(int ordinal) {
        try (Arena arena = Arena.ofConfined()) {
            int device = device(arena, ordinal);
            MemorySegment name = arena.allocate(256);
            CudaErrors.check(CudaDriver.cuDeviceGetName(name, (int) name.byteSize(), device),
                    "cuDeviceGetName(" + ordinal + ")");
            return name.getString(0);
        }
    }

    public static int deviceAttribute(int ordinal, int attribute) {
        try (Arena arena = Arena.ofConfined()) {
            int device = device(arena, ordinal);
            MemorySegment out = arena.allocate(JAVA_INT);
            CudaErrors.check(CudaDriver.cuDeviceGetAttribute(out, attribute, device),
                    "cuDeviceGetAttribute(" + attribute + ", device " + ordinal + ")");
            return out.get(JAVA_INT, 0);
        }
    }

    private static int device(Arena arena, int ordinal) {
        MemorySegment out = arena.allocate(JAVA_INT);
        CudaErrors.check(CudaDriver.cuDeviceGet(out, ordinal), "cuDeviceGet(" + ordinal + ")");
        return out.get(JAVA_INT, 0);
    }

    public static long memAlloc(long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            CudaErrors.check(CudaDriver.cuMemAlloc(out, bytes), "cuMemAlloc(" + bytes + " bytes)");
            return out.get(JAVA_LONG, 0);
        }
    }

    public static long memHostAlloc(long bytes, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            CudaErrors.check(CudaDriver.cuMemHostAlloc(out, bytes, flags), "cuMemHostAlloc(" + bytes + " bytes)");
            return out.get(ADDRESS, 0).address();
        }
    }

    public static long hostDevicePointer(long hostPointer) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            CudaErrors.check(CudaDriver.cuMemHostGetDevicePointer(out, hostPointer, 0), "cuMemHostGetDevicePointer");
            return out.get(JAVA_LONG, 0);
        }
    }

    public static long createStream(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            CudaErrors.check(CudaDriver.cuStreamCreate(out, flags), "cuStreamCreate");
            return out.get(ADDRESS, 0).address();
        }
    }

    public static long createEvent(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            CudaErrors.check(CudaDriver.cuEventCreate(out, flags), "cuEventCreate");
            return out.get(ADDRESS, 0).address();
        }
    }

    public static float elapsedMillis(long start, long end) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_FLOAT);
            CudaErrors.check(CudaDriver.cuEventElapsedTime(out, start, end), "cuEventElapsedTime");
            return out.get(JAVA_FLOAT, 0);
        }
    }

    /**
     * {@code cuPointerGetAttributes} for memory type, managed, ordinal and range. Unlike
     * {@code cuPointerGetAttribute} it succeeds for memory CUDA does not know and leaves the values zero. Each
     * value gets its own zeroed 8-byte slot, so 4-byte ({@code unsigned int}, {@code int}) and 8-byte
     * ({@code CUdeviceptr}, {@code size_t}) attributes are both read correctly.
     */
    public static PointerInfo pointerInfo(long address) {
        try (Arena arena = Arena.ofConfined()) {
            int n = POINTER_ATTRIBUTES.length;
            MemorySegment attributes = arena.allocateFrom(JAVA_INT, POINTER_ATTRIBUTES);
            MemorySegment slots = arena.allocate(JAVA_LONG, n); // zeroed
            MemorySegment pointers = arena.allocate(ADDRESS, n);
            for (int i = 0; i < n; i++) {
                pointers.setAtIndex(ADDRESS, i, slots.asSlice(i * 8L, 8));
            }
            slots.setAtIndex(JAVA_INT, 4, -1); // DEVICE_ORDINAL stays -1 if the driver leaves it alone
            int result = CudaDriver.cuPointerGetAttributes(n, attributes, pointers, address);
            if (result == CudaConst.Result.CUDA_ERROR_INVALID_VALUE) {
                // Documented not to happen for unknown memory, but cuPointerGetAttribute does it: same meaning.
                return new PointerInfo(address, PointerInfo.MemoryType.UNKNOWN, -1, false, 0, 0);
            }
            CudaErrors.check(result, "cuPointerGetAttributes(0x" + Long.toHexString(address) + ")");
            int type = slots.get(JAVA_INT, 0);
            boolean managed = slots.get(JAVA_INT, 8) != 0;
            return new PointerInfo(address, PointerInfo.MemoryType.of(type), type == 0 ? -1 : slots.get(JAVA_INT, 16),
                    managed, slots.get(JAVA_LONG, 24), slots.get(JAVA_LONG, 32));
        }
    }

    /** A dma-buf file descriptor for a device range ({@code CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD}). */
    public static int dmabufFd(long address, long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            out.set(JAVA_INT, 0, -1);
            CudaErrors.check(CudaDriver.cuMemGetHandleForAddressRange(out, address, bytes,
                    CudaConst.Flags.CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD, 0),
                    "cuMemGetHandleForAddressRange(0x" + Long.toHexString(address) + ", " + bytes + " bytes, DMA_BUF_FD)");
            return out.get(JAVA_INT, 0);
        }
    }

    public static byte[] ipcHandle(long devicePointer) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(CudaLayouts.IPC_MEM_HANDLE);
            CudaErrors.check(CudaDriver.cuIpcGetMemHandle(out, devicePointer),
                    "cuIpcGetMemHandle(0x" + Long.toHexString(devicePointer) + ")");
            return out.toArray(JAVA_BYTE);
        }
    }

    public static long ipcOpen(byte[] handle) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment byValue = arena.allocate(CudaLayouts.IPC_MEM_HANDLE);
            MemorySegment.copy(handle, 0, byValue, JAVA_BYTE, 0, handle.length);
            MemorySegment out = arena.allocate(JAVA_LONG);
            CudaErrors.check(CudaDriver.cuIpcOpenMemHandle(out, byValue, CudaConst.Ipc.CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS),
                    "cuIpcOpenMemHandle");
            return out.get(JAVA_LONG, 0);
        }
    }

    /** Polls {@code cuStreamQuery} until the stream is idle or the timeout passes. */
    public static void awaitStream(long stream, long timeoutNanos, String what) {
        await(CudaDriver::cuStreamQuery, stream, timeoutNanos, what);
    }

    /** Polls {@code cuEventQuery} until the event completed or the timeout passes. */
    public static void awaitEvent(long event, long timeoutNanos, String what) {
        await(CudaDriver::cuEventQuery, event, timeoutNanos, what);
    }

    /** Whether a query result means done ({@code true}), not yet ({@code false}); throws for errors. */
    public static boolean done(int result, String what) {
        if (result == CUDA_SUCCESS) {
            return true;
        }
        if (result == CUDA_ERROR_NOT_READY) {
            return false;
        }
        throw CudaErrors.exception(what, result);
    }

    /** Spin briefly (copies of a few µs finish in the spin), then park with growing pauses up to 100 µs. */
    private static void await(LongToIntFunction query, long handle, long timeoutNanos, String what) {
        long start = System.nanoTime();
        long park = 1_000;
        while (!done(query.applyAsInt(handle), what)) {
            long waited = System.nanoTime() - start;
            if (waited >= timeoutNanos) {
                throw new TransferTimeoutException(what + " did not finish within " + timeoutNanos / 1_000_000 + " ms");
            }
            if (waited < SPIN_NANOS) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(park);
                park = Math.min(park * 2, MAX_PARK_NANOS);
            }
        }
    }
}
