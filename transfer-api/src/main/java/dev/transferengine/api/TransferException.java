package dev.transferengine.api;

import java.util.Objects;

/**
 * The one unchecked exception family of TransferEngine. Every failure that reaches a caller, thrown
 * or delivered to a callback, is a {@code TransferException} with an {@link ErrorCategory}; failures
 * from native providers also carry the provider's own error code and text.
 *
 * <p><b>Subclasses and categories.</b> Each subclass in this package stands for exactly one category and
 * always carries it: {@link InvalidRequestException} is {@link ErrorCategory#INVALID_ARGUMENT},
 * {@link MalformedEncodingException} is {@link ErrorCategory#MALFORMED_ENCODING}, {@link ClosedException}
 * is {@link ErrorCategory#CLOSED}, {@link TransferTimeoutException} is {@link ErrorCategory#TIMEOUT} and
 * {@link ProviderUnavailableException} is {@link ErrorCategory#UNAVAILABLE}; no subclass extends another.
 * The converse does not hold: an engine or a provider may report any category, those included, as a plain
 * {@code TransferException} (a provider's refusal with its native code, say) or as a subclass of its own
 * that keeps a native code (such as the CUDA binding's). So {@link #category()} is
 * the complete answer to "what kind of failure": switch on it; catching a subclass sees a subset.
 *
 * <p>Instances are immutable and safe to share between threads.
 */
public class TransferException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCategory category;
    private final int providerCode;
    private final String providerMessage;

    public TransferException(ErrorCategory category, String message) {
        this(category, message, 0, null, null);
    }

    public TransferException(ErrorCategory category, String message, Throwable cause) {
        this(category, message, 0, null, cause);
    }

    /**
     * @param providerCode    the provider's native code (for example a negated {@code FI_*} value or an
     *                        {@code ibv_wc_status}); 0 when there is none
     * @param providerMessage the provider's own text for that code ({@code fi_strerror},
     *                        {@code fi_cq_strerror}, {@code ibv_wc_status_str}); may be null
     */
    public TransferException(ErrorCategory category, String message, int providerCode, String providerMessage,
                             Throwable cause) {
        super(compose(message, providerCode, providerMessage), cause);
        this.category = Objects.requireNonNull(category, "category");
        this.providerCode = providerCode;
        this.providerMessage = providerMessage;
    }

    private static String compose(String message, int code, String text) {
        if (code == 0 && text == null) {
            return message;
        }
        return message + " [provider code " + code + (text == null ? "" : ": " + text) + "]";
    }

    /** The kind of failure. */
    public ErrorCategory category() {
        return category;
    }

    /** The provider's native error code, or 0 when the failure did not come from a provider. */
    public int providerCode() {
        return providerCode;
    }

    /** The provider's own description of {@link #providerCode()}, or null. */
    public String providerMessage() {
        return providerMessage;
    }
}
