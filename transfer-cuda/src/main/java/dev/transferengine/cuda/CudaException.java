package dev.transferengine.cuda;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;

/**
 * A CUDA driver call failed. {@link #providerCode()} is the {@code CUresult} and {@link #providerMessage()}
 * the driver's name and description of it ({@code cuGetErrorName}, {@code cuGetErrorString}), for example
 * {@code "CUDA_ERROR_OUT_OF_MEMORY: out of memory"}. Category {@link ErrorCategory#PROVIDER}.
 * Immutable and safe to share between threads.
 */
public class CudaException extends TransferException {
    private static final long serialVersionUID = 1L;

    /**
     * @param call       the call that failed and on what, for example {@code "cuMemAlloc(1048576 bytes)"}
     * @param result     the {@code CUresult} it returned
     * @param driverText the driver's name and text for {@code result}
     */
    public CudaException(String call, int result, String driverText) {
        super(ErrorCategory.PROVIDER, call + " failed", result, driverText, null);
    }

    /** The {@code CUresult} the driver returned (same as {@link #providerCode()}). */
    public int result() {
        return providerCode();
    }
}
