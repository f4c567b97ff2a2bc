package dev.transferengine.api;

/**
 * The caller passed an invalid argument. Thrown synchronously, before anything reaches native code, so
 * registered memory is never touched by a rejected request. Its category is always
 * {@link ErrorCategory#INVALID_ARGUMENT}. An encoding that does not decode is a
 * {@link MalformedEncodingException} instead, with its own category.
 */
public class InvalidRequestException extends TransferException {
    private static final long serialVersionUID = 1L;

    public InvalidRequestException(String message) {
        super(ErrorCategory.INVALID_ARGUMENT, message);
    }
}
