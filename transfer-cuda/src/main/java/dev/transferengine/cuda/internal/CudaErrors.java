package dev.transferengine.cuda.internal;

import dev.transferengine.cuda.CudaException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;

/** Turns a {@code CUresult} into a {@link CudaException} with the driver's own name and text. Thread-safe. */
public final class CudaErrors {
    private CudaErrors() {
    }

    /** The driver's name ({@code CUDA_ERROR_OUT_OF_MEMORY}) and description of a result. */
    public record Described(String name, String text) {
        @Override
        public String toString() {
            return name + ": " + text;
        }
    }

    /** Throws a {@link CudaException} for {@code call} unless {@code result} is {@code CUDA_SUCCESS}. */
    public static void check(int result, String call) {
        if (result != CudaConst.Result.CUDA_SUCCESS) {
            throw exception(call, result);
        }
    }

    /** The exception for a failed call (not thrown). */
    public static CudaException exception(String call, int result) {
        return new CudaException(call, result, describe(result).toString());
    }

    /** {@code cuGetErrorName} and {@code cuGetErrorString}; works before {@code cuInit}. */
    public static Described describe(int result) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            String name = CudaDriver.cuGetErrorName(result, out) == 0 ? string(out) : "CUresult " + result;
            String text = CudaDriver.cuGetErrorString(result, out) == 0 ? string(out) : "unknown error";
            return new Described(name, text);
        }
    }

    private static String string(MemorySegment pointerHolder) {
        MemorySegment p = pointerHolder.get(ADDRESS, 0);
        return p.equals(MemorySegment.NULL) ? "?" : p.reinterpret(Integer.MAX_VALUE).getString(0);
    }
}
