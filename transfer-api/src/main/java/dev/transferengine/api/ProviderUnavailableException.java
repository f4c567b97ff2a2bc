package dev.transferengine.api;

/** A provider cannot run here; the message says why (library missing, no device, no matching fi_info). */
public class ProviderUnavailableException extends TransferException {
    private static final long serialVersionUID = 1L;

    public ProviderUnavailableException(String message, Throwable cause) {
        super(ErrorCategory.UNAVAILABLE, message, cause);
    }
}
