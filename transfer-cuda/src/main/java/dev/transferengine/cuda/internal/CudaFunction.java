package dev.transferengine.cuda.internal;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Every driver function the binding calls: the name in the CUDA documentation, the symbol
 * {@code libcuda.so.1} exports for it (what {@code cuda.h}'s {@code #define cuX cuX_v2} lines resolve
 * to without per-thread default streams), and its C signature.
 *
 * <p>Type mapping: {@code CUresult}, {@code CUdevice}, {@code unsigned int} are {@code JAVA_INT};
 * {@code CUdeviceptr}, {@code size_t}, and the opaque handles {@code CUcontext}, {@code CUstream},
 * {@code CUevent} and host {@code void*} arguments are {@code JAVA_LONG} (the same register class as a
 * pointer on LP64); out-parameters are {@code ADDRESS}. {@code unsigned char} is passed as a
 * zero-extended {@code JAVA_INT}. {@code CudaLayoutTest} checks every symbol against the header.
 */
public enum CudaFunction {
    cuInit("cuInit", JAVA_INT),
    cuDriverGetVersion("cuDriverGetVersion", ADDRESS),
    cuDeviceGetCount("cuDeviceGetCount", ADDRESS),
    cuDeviceGet("cuDeviceGet", ADDRESS, JAVA_INT),
    cuDeviceGetAttribute("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT),
    cuDeviceGetName("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT),
    cuDevicePrimaryCtxRetain("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT),
    cuDevicePrimaryCtxRelease("cuDevicePrimaryCtxRelease_v2", JAVA_INT),
    cuCtxSetCurrent("cuCtxSetCurrent", JAVA_LONG),
    cuMemAlloc("cuMemAlloc_v2", ADDRESS, JAVA_LONG),
    cuMemFree("cuMemFree_v2", JAVA_LONG),
    cuMemHostAlloc("cuMemHostAlloc", ADDRESS, JAVA_LONG, JAVA_INT),
    cuMemFreeHost("cuMemFreeHost", JAVA_LONG),
    cuMemHostGetDevicePointer("cuMemHostGetDevicePointer_v2", ADDRESS, JAVA_LONG, JAVA_INT),
    cuMemcpyAsync("cuMemcpyAsync", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
    cuMemcpyHtoDAsync("cuMemcpyHtoDAsync_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
    cuMemcpyDtoHAsync("cuMemcpyDtoHAsync_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
    cuMemcpyDtoDAsync("cuMemcpyDtoDAsync_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
    cuMemsetD8("cuMemsetD8_v2", JAVA_LONG, JAVA_INT, JAVA_LONG),
    cuStreamCreate("cuStreamCreate", ADDRESS, JAVA_INT),
    cuStreamQuery("cuStreamQuery", true, JAVA_LONG),
    cuStreamDestroy("cuStreamDestroy_v2", JAVA_LONG),
    cuEventCreate("cuEventCreate", ADDRESS, JAVA_INT),
    cuEventRecord("cuEventRecord", JAVA_LONG, JAVA_LONG),
    cuEventQuery("cuEventQuery", true, JAVA_LONG),
    cuEventElapsedTime("cuEventElapsedTime_v2", ADDRESS, JAVA_LONG, JAVA_LONG),
    cuEventDestroy("cuEventDestroy_v2", JAVA_LONG),
    cuPointerGetAttribute("cuPointerGetAttribute", ADDRESS, JAVA_INT, JAVA_LONG),
    cuPointerGetAttributes("cuPointerGetAttributes", JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG),
    cuMemGetAddressRange("cuMemGetAddressRange_v2", ADDRESS, ADDRESS, JAVA_LONG),
    cuMemGetHandleForAddressRange("cuMemGetHandleForAddressRange", ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT,
            JAVA_LONG),
    cuIpcGetMemHandle("cuIpcGetMemHandle", ADDRESS, JAVA_LONG),
    cuIpcOpenMemHandle("cuIpcOpenMemHandle_v2", ADDRESS, CudaLayouts.IPC_MEM_HANDLE, JAVA_INT),
    cuIpcCloseMemHandle("cuIpcCloseMemHandle", JAVA_LONG),
    cuStreamWriteValue64("cuStreamWriteValue64_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT),
    cuStreamWaitValue64("cuStreamWaitValue64_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT),
    cuGetErrorName("cuGetErrorName", JAVA_INT, ADDRESS),
    cuGetErrorString("cuGetErrorString", JAVA_INT, ADDRESS);

    private final String symbol;
    private final boolean critical;
    private final FunctionDescriptor descriptor;

    CudaFunction(String symbol, MemoryLayout... arguments) {
        this(symbol, false, arguments);
    }

    /**
     * @param critical whether the call is short, never blocks and never calls back into Java (the queries):
     *                 such calls skip the Java-to-native thread-state transition
     */
    CudaFunction(String symbol, boolean critical, MemoryLayout... arguments) {
        this.symbol = symbol;
        this.critical = critical;
        this.descriptor = FunctionDescriptor.of(JAVA_INT, arguments);
    }

    /** The exported symbol looked up in {@code libcuda.so.1}. */
    public String symbol() {
        return symbol;
    }

    /** Whether the handle is linked with {@code Linker.Option.critical(false)}. */
    public boolean critical() {
        return critical;
    }

    /** The C signature; every driver function returns {@code CUresult}. */
    public FunctionDescriptor descriptor() {
        return descriptor;
    }
}
