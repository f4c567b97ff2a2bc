package dev.transferengine.api;

/**
 * What kind of failure a {@link TransferException} reports. Callers switch on the category, not on
 * exception subclasses or message text: every subclass carries exactly one category, but a failure of any
 * category may also arrive as a plain {@code TransferException} (see there).
 */
public enum ErrorCategory {
    /**
     * The caller passed something invalid: out-of-range offsets, negative lengths, wrong NIC count.
     * Thrown as {@link InvalidRequestException}.
     */
    INVALID_ARGUMENT,
    /**
     * A byte or hex encoding (descriptor, address) could not be decoded. Thrown as
     * {@link MalformedEncodingException}, which is not an {@link InvalidRequestException}.
     */
    MALFORMED_ENCODING,
    /** The engine, a region or a receive was closed before or while the operation ran. */
    CLOSED,
    /** A deadline passed before the operation completed. */
    TIMEOUT,
    /** The remote side rejected the access (bad key, address outside the remote region). */
    REMOTE_ACCESS,
    /** The peer could not be reached or went away. */
    PEER_UNREACHABLE,
    /** The native provider reported an error; {@link TransferException#providerCode()} has its code. */
    PROVIDER,
    /** A provider cannot run on this machine (library missing, no device). */
    UNAVAILABLE,
    /** The engine's queues are full and the caller asked not to wait. */
    BACK_PRESSURE,
    /** A bug in the engine: please report it. */
    INTERNAL
}
