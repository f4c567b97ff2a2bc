package dev.transferengine.api;

/**
 * A byte or hex encoding of a {@link DomainAddress} or {@link RemoteRegion} could not be decoded. Its
 * category is always {@link ErrorCategory#MALFORMED_ENCODING}; it is not an {@link InvalidRequestException}
 * (whose category is {@link ErrorCategory#INVALID_ARGUMENT}), so a {@code catch} of either type and a
 * {@code switch} on {@link TransferException#category()} see the same failures.
 */
public class MalformedEncodingException extends TransferException {
    private static final long serialVersionUID = 1L;

    public MalformedEncodingException(String message) {
        super(ErrorCategory.MALFORMED_ENCODING, message);
    }

    public MalformedEncodingException(String message, Throwable cause) {
        super(ErrorCategory.MALFORMED_ENCODING, message, cause);
    }
}
