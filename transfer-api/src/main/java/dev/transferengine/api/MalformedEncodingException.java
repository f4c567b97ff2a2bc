package dev.transferengine.api;

/** A byte or hex encoding of a {@link DomainAddress} or {@link RemoteRegion} could not be decoded. */
public class MalformedEncodingException extends InvalidRequestException {
    private static final long serialVersionUID = 1L;

    public MalformedEncodingException(String message) {
        super(ErrorCategory.MALFORMED_ENCODING, message, null);
    }

    public MalformedEncodingException(String message, Throwable cause) {
        super(ErrorCategory.MALFORMED_ENCODING, message, cause);
    }
}
