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
    /** CUDA 13.0's signature (no {@code failIdx}); optional: drivers before 580 lack the symbol. */
    cuMemcpyBatchAsync("cuMemcpyBatchAsync_v2", Kind.OPTIONAL, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS,
            ADDRESS, JAVA_LONG, JAVA_LONG),
    cuModuleLoadData("cuModuleLoadData", ADDRESS, ADDRESS),
    cuModuleGetFunction("cuModuleGetFunction", ADDRESS, JAVA_LONG, ADDRESS),
    /** f, grid x/y/z, block x/y/z, shared memory bytes, stream, kernelParams, extra. */
    cuLaunchKernel("cuLaunchKernel", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_LONG, ADDRESS, ADDRESS),
    cuStreamCreate("cuStreamCreate", ADDRESS, JAVA_INT),
    cuStreamQuery("cuStreamQuery", Kind.CRITICAL, JAVA_LONG),
    cuStreamDestroy("cuStreamDestroy_v2", JAVA_LONG),
    cuEventCreate("cuEventCreate", ADDRESS, JAVA_INT),
    cuEventRecord("cuEventRecord", JAVA_LONG, JAVA_LONG),
    cuEventQuery("cuEventQuery", Kind.CRITICAL, JAVA_LONG),
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

    /** How a function is linked. */
    enum Kind {
        /** Required (the binding is unavailable without it), with the Java-to-native thread-state transition. */
        PLAIN,
        /**
         * Required; short, never blocks and never calls back into Java (the queries): linked with
         * {@code Linker.Option.critical(false)}, skipping the thread-state transition.
         */
        CRITICAL,
        /** Newer than the oldest supported driver: a missing symbol leaves the feature off, not the binding. */
        OPTIONAL
    }

    private final String symbol;
    private final Kind kind;
    private final FunctionDescriptor descriptor;

    CudaFunction(String symbol, MemoryLayout... arguments) {
        this(symbol, Kind.PLAIN, arguments);
    }

    CudaFunction(String symbol, Kind kind, MemoryLayout... arguments) {
        this.symbol = symbol;
        this.kind = kind;
        this.descriptor = FunctionDescriptor.of(JAVA_INT, arguments);
    }

    /** The exported symbol looked up in {@code libcuda.so.1}. */
    public String symbol() {
        return symbol;
    }

    /** Whether the handle is linked with {@code Linker.Option.critical(false)}. */
    public boolean critical() {
        return kind == Kind.CRITICAL;
    }

    /** Whether a driver without the symbol is still usable (the feature that needs it is then off). */
    public boolean optional() {
        return kind == Kind.OPTIONAL;
    }

    /** The C signature; every driver function returns {@code CUresult}. */
    public FunctionDescriptor descriptor() {
        return descriptor;
    }
}
