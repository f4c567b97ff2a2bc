package dev.transferengine.cuda.internal;

import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * One cached downcall handle per driver function ({@link CudaFunction}) and a static method that calls it
 * and returns the raw {@code CUresult}. Callers check results with {@link CudaErrors}; nothing here
 * allocates or interprets. Initialising this class links every handle, so it must only be touched after
 * {@link CudaLibrary} loaded the library (its probe does that first, and reports a missing symbol as the
 * unavailability cause). Thread-safe; no call here needs a current context except where the driver says so.
 */
public final class CudaDriver {
    private static final Linker LINKER = Linker.nativeLinker();

    private static final MethodHandle INIT = link(CudaFunction.cuInit);
    private static final MethodHandle DRIVER_GET_VERSION = link(CudaFunction.cuDriverGetVersion);
    private static final MethodHandle DEVICE_GET_COUNT = link(CudaFunction.cuDeviceGetCount);
    private static final MethodHandle DEVICE_GET = link(CudaFunction.cuDeviceGet);
    private static final MethodHandle DEVICE_GET_ATTRIBUTE = link(CudaFunction.cuDeviceGetAttribute);
    private static final MethodHandle DEVICE_GET_NAME = link(CudaFunction.cuDeviceGetName);
    private static final MethodHandle DEVICE_PRIMARY_CTX_RETAIN = link(CudaFunction.cuDevicePrimaryCtxRetain);
    private static final MethodHandle DEVICE_PRIMARY_CTX_RELEASE = link(CudaFunction.cuDevicePrimaryCtxRelease);
    private static final MethodHandle CTX_SET_CURRENT = link(CudaFunction.cuCtxSetCurrent);
    private static final MethodHandle MEM_ALLOC = link(CudaFunction.cuMemAlloc);
    private static final MethodHandle MEM_FREE = link(CudaFunction.cuMemFree);
    private static final MethodHandle MEM_HOST_ALLOC = link(CudaFunction.cuMemHostAlloc);
    private static final MethodHandle MEM_FREE_HOST = link(CudaFunction.cuMemFreeHost);
    private static final MethodHandle MEM_HOST_GET_DEVICE_POINTER = link(CudaFunction.cuMemHostGetDevicePointer);
    private static final MethodHandle MEMCPY_ASYNC = link(CudaFunction.cuMemcpyAsync);
    private static final MethodHandle MEMCPY_HTO_D_ASYNC = link(CudaFunction.cuMemcpyHtoDAsync);
    private static final MethodHandle MEMCPY_DTO_H_ASYNC = link(CudaFunction.cuMemcpyDtoHAsync);
    private static final MethodHandle MEMCPY_DTO_D_ASYNC = link(CudaFunction.cuMemcpyDtoDAsync);
    private static final MethodHandle MEMSET_D8 = link(CudaFunction.cuMemsetD8);
    /** Null when the driver predates it (optional). */
    private static final MethodHandle MEMCPY_BATCH_ASYNC = link(CudaFunction.cuMemcpyBatchAsync);
    private static final MethodHandle MODULE_LOAD_DATA = link(CudaFunction.cuModuleLoadData);
    private static final MethodHandle MODULE_GET_FUNCTION = link(CudaFunction.cuModuleGetFunction);
    private static final MethodHandle LAUNCH_KERNEL = link(CudaFunction.cuLaunchKernel);
    private static final MethodHandle STREAM_CREATE = link(CudaFunction.cuStreamCreate);
    private static final MethodHandle STREAM_QUERY = link(CudaFunction.cuStreamQuery);
    private static final MethodHandle STREAM_DESTROY = link(CudaFunction.cuStreamDestroy);
    private static final MethodHandle EVENT_CREATE = link(CudaFunction.cuEventCreate);
    private static final MethodHandle EVENT_RECORD = link(CudaFunction.cuEventRecord);
    private static final MethodHandle EVENT_QUERY = link(CudaFunction.cuEventQuery);
    private static final MethodHandle EVENT_ELAPSED_TIME = link(CudaFunction.cuEventElapsedTime);
    private static final MethodHandle EVENT_DESTROY = link(CudaFunction.cuEventDestroy);
    private static final MethodHandle POINTER_GET_ATTRIBUTE = link(CudaFunction.cuPointerGetAttribute);
    private static final MethodHandle POINTER_GET_ATTRIBUTES = link(CudaFunction.cuPointerGetAttributes);
    private static final MethodHandle MEM_GET_ADDRESS_RANGE = link(CudaFunction.cuMemGetAddressRange);
    private static final MethodHandle MEM_GET_HANDLE_FOR_ADDRESS_RANGE = link(CudaFunction.cuMemGetHandleForAddressRange);
    private static final MethodHandle IPC_GET_MEM_HANDLE = link(CudaFunction.cuIpcGetMemHandle);
    private static final MethodHandle IPC_OPEN_MEM_HANDLE = link(CudaFunction.cuIpcOpenMemHandle);
    private static final MethodHandle IPC_CLOSE_MEM_HANDLE = link(CudaFunction.cuIpcCloseMemHandle);
    private static final MethodHandle STREAM_WRITE_VALUE64 = link(CudaFunction.cuStreamWriteValue64);
    private static final MethodHandle STREAM_WAIT_VALUE64 = link(CudaFunction.cuStreamWaitValue64);
    private static final MethodHandle GET_ERROR_NAME = link(CudaFunction.cuGetErrorName);
    private static final MethodHandle GET_ERROR_STRING = link(CudaFunction.cuGetErrorString);

    private CudaDriver() {
    }

    private static MethodHandle link(CudaFunction function) {
        if (CudaLibrary.Loaded.LOOKUP == null) {
            throw new IllegalStateException(CudaLibrary.DEFAULT_LIBRARY + " is not loaded", CudaLibrary.Loaded.FAILURE);
        }
        var found = CudaLibrary.Loaded.LOOKUP.find(function.symbol());
        if (found.isEmpty() && function.optional()) {
            return null;
        }
        MemorySegment symbol = found.orElseThrow(
                () -> new IllegalStateException(CudaLibrary.Loaded.PATH + " exports no " + function.symbol()));
        return function.critical()
                ? LINKER.downcallHandle(symbol, function.descriptor(), Linker.Option.critical(false))
                : LINKER.downcallHandle(symbol, function.descriptor());
    }

    /** Rethrows what an {@code invokeExact} threw: downcalls throw only unchecked exceptions. */
    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("unexpected checked exception from a downcall", t);
    }

    public static int cuInit(int flags) {
        try {
            return (int) INIT.invokeExact(flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuDriverGetVersion(MemorySegment versionOut) {
        try {
            return (int) DRIVER_GET_VERSION.invokeExact(versionOut);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuDeviceGetCount(MemorySegment countOut) {
        try {
            return (int) DEVICE_GET_COUNT.invokeExact(countOut);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuDeviceGet(MemorySegment deviceOut, int ordinal) {
        try {
            return (int) DEVICE_GET.invokeExact(deviceOut, ordinal);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuDeviceGetAttribute(MemorySegment valueOut, int attribute, int device) {
        try {
            return (int) DEVICE_GET_ATTRIBUTE.invokeExact(valueOut, attribute, device);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuDeviceGetName(MemorySegment nameOut, int length, int device) {
        try {
            return (int) DEVICE_GET_NAME.invokeExact(nameOut, length, device);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuDevicePrimaryCtxRetain(MemorySegment contextOut, int device) {
        try {
            return (int) DEVICE_PRIMARY_CTX_RETAIN.invokeExact(contextOut, device);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuDevicePrimaryCtxRelease(int device) {
        try {
            return (int) DEVICE_PRIMARY_CTX_RELEASE.invokeExact(device);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuCtxSetCurrent(long context) {
        try {
            return (int) CTX_SET_CURRENT.invokeExact(context);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuMemAlloc(MemorySegment pointerOut, long bytes) {
        try {
            return (int) MEM_ALLOC.invokeExact(pointerOut, bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuMemFree(long devicePointer) {
        try {
            return (int) MEM_FREE.invokeExact(devicePointer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuMemHostAlloc(MemorySegment pointerOut, long bytes, int flags) {
        try {
            return (int) MEM_HOST_ALLOC.invokeExact(pointerOut, bytes, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuMemFreeHost(long hostPointer) {
        try {
            return (int) MEM_FREE_HOST.invokeExact(hostPointer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuMemHostGetDevicePointer(MemorySegment devicePointerOut, long hostPointer, int flags) {
        try {
            return (int) MEM_HOST_GET_DEVICE_POINTER.invokeExact(devicePointerOut, hostPointer, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuMemcpyAsync(long destination, long source, long bytes, long stream) {
        try {
            return (int) MEMCPY_ASYNC.invokeExact(destination, source, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuMemcpyHtoDAsync(long destination, long hostSource, long bytes, long stream) {
        try {
            return (int) MEMCPY_HTO_D_ASYNC.invokeExact(destination, hostSource, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuMemcpyDtoHAsync(long hostDestination, long source, long bytes, long stream) {
        try {
            return (int) MEMCPY_DTO_H_ASYNC.invokeExact(hostDestination, source, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuMemcpyDtoDAsync(long destination, long source, long bytes, long stream) {
        try {
            return (int) MEMCPY_DTO_D_ASYNC.invokeExact(destination, source, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuMemsetD8(long destination, int unsignedByte, long count) {
        try {
            return (int) MEMSET_D8.invokeExact(destination, unsignedByte, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuModuleLoadData(MemorySegment moduleOut, MemorySegment image) {
        try {
            return (int) MODULE_LOAD_DATA.invokeExact(moduleOut, image);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuModuleGetFunction(MemorySegment functionOut, long module, MemorySegment name) {
        try {
            return (int) MODULE_GET_FUNCTION.invokeExact(functionOut, module, name);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuLaunchKernel(long function, int gridX, int gridY, int gridZ, int blockX, int blockY,
                                     int blockZ, int sharedMemoryBytes, long stream, MemorySegment kernelParams,
                                     MemorySegment extra) {
        try {
            return (int) LAUNCH_KERNEL.invokeExact(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                    sharedMemoryBytes, stream, kernelParams, extra);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Whether the driver exports {@code cuMemcpyBatchAsync} with CUDA 13.0's signature. */
    public static boolean hasMemcpyBatchAsync() {
        return MEMCPY_BATCH_ASYNC != null;
    }

    /** Callers check {@link #hasMemcpyBatchAsync()} first. */
    public static int cuMemcpyBatchAsync(MemorySegment destinations, MemorySegment sources, MemorySegment sizes,
                                         long count, MemorySegment attributes, MemorySegment attributeIndices,
                                         long attributeCount, long stream) {
        try {
            return (int) MEMCPY_BATCH_ASYNC.invokeExact(destinations, sources, sizes, count, attributes,
                    attributeIndices, attributeCount, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuStreamCreate(MemorySegment streamOut, int flags) {
        try {
            return (int) STREAM_CREATE.invokeExact(streamOut, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuStreamQuery(long stream) {
        try {
            return (int) STREAM_QUERY.invokeExact(stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuStreamDestroy(long stream) {
        try {
            return (int) STREAM_DESTROY.invokeExact(stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuEventCreate(MemorySegment eventOut, int flags) {
        try {
            return (int) EVENT_CREATE.invokeExact(eventOut, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuEventRecord(long event, long stream) {
        try {
            return (int) EVENT_RECORD.invokeExact(event, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuEventQuery(long event) {
        try {
            return (int) EVENT_QUERY.invokeExact(event);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuEventElapsedTime(MemorySegment millisecondsOut, long start, long end) {
        try {
            return (int) EVENT_ELAPSED_TIME.invokeExact(millisecondsOut, start, end);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuEventDestroy(long event) {
        try {
            return (int) EVENT_DESTROY.invokeExact(event);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuPointerGetAttribute(MemorySegment dataOut, int attribute, long pointer) {
        try {
            return (int) POINTER_GET_ATTRIBUTE.invokeExact(dataOut, attribute, pointer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuPointerGetAttributes(int count, MemorySegment attributes, MemorySegment dataPointers, long pointer) {
        try {
            return (int) POINTER_GET_ATTRIBUTES.invokeExact(count, attributes, dataPointers, pointer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuMemGetAddressRange(MemorySegment baseOut, MemorySegment sizeOut, long pointer) {
        try {
            return (int) MEM_GET_ADDRESS_RANGE.invokeExact(baseOut, sizeOut, pointer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuMemGetHandleForAddressRange(MemorySegment handleOut, long pointer, long bytes, int handleType, long flags) {
        try {
            return (int) MEM_GET_HANDLE_FOR_ADDRESS_RANGE.invokeExact(handleOut, pointer, bytes, handleType, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuIpcGetMemHandle(MemorySegment handleOut, long pointer) {
        try {
            return (int) IPC_GET_MEM_HANDLE.invokeExact(handleOut, pointer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuIpcOpenMemHandle(MemorySegment pointerOut, MemorySegment handleByValue, int flags) {
        try {
            return (int) IPC_OPEN_MEM_HANDLE.invokeExact(pointerOut, handleByValue, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuIpcCloseMemHandle(long pointer) {
        try {
            return (int) IPC_CLOSE_MEM_HANDLE.invokeExact(pointer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuStreamWriteValue64(long stream, long address, long value, int flags) {
        try {
            return (int) STREAM_WRITE_VALUE64.invokeExact(stream, address, value, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuStreamWaitValue64(long stream, long address, long value, int flags) {
        try {
            return (int) STREAM_WAIT_VALUE64.invokeExact(stream, address, value, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuGetErrorName(int result, MemorySegment stringOut) {
        try {
            return (int) GET_ERROR_NAME.invokeExact(result, stringOut);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int cuGetErrorString(int result, MemorySegment stringOut) {
        try {
            return (int) GET_ERROR_STRING.invokeExact(result, stringOut);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
