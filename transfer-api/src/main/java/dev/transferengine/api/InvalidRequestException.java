package dev.transferengine.api;

/**
 * The caller passed an invalid argument. Thrown synchronously, before anything reaches native code, so
 * registered memory is never touched by a rejected request.
 */
public class InvalidRequestException extends TransferException {
    private static final long serialVersionUID = 1L;

    public InvalidRequestException(String message) {
        super(ErrorCategory.INVALID_ARGUMENT, message);
    }

    protected InvalidRequestException(ErrorCategory category, String message, Throwable cause) {
        super(category, message, cause);
    }
}
