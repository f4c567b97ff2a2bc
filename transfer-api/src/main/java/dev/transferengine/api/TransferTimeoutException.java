package dev.transferengine.api;

/** A deadline passed: a wait, a registration, or a transfer that did not complete in time. */
public class TransferTimeoutException extends TransferException {
    private static final long serialVersionUID = 1L;

    public TransferTimeoutException(String message) {
        super(ErrorCategory.TIMEOUT, message);
    }

    /**
     * A timeout that keeps what caused it, for example the engine's own timeout re-thrown with more context
     * ({@code new TransferTimeoutException("combine phase: " + e.getMessage(), e)}).
     *
     * @param cause the underlying failure; may be null
     */
    public TransferTimeoutException(String message, Throwable cause) {
        super(ErrorCategory.TIMEOUT, message, cause);
    }
}
