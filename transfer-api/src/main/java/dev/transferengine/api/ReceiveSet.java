package dev.transferengine.api;

/**
 * A set of persistent receive buffers posted by {@link TransferEngine#postReceives}. Closing it stops
 * re-posting and frees the buffers once the provider has released them. Thread-safe, idempotent close.
 */
public interface ReceiveSet extends AutoCloseable {
    /** Messages delivered so far. */
    long received();

    @Override
    void close();
}
