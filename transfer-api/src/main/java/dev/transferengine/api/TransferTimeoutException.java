package dev.transferengine.api;

/** A deadline passed: a wait, a registration, or a transfer that did not complete in time. */
public class TransferTimeoutException extends TransferException {
    private static final long serialVersionUID = 1L;

    public TransferTimeoutException(String message) {
        super(ErrorCategory.TIMEOUT, message);
    }
}
