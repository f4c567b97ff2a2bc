package dev.transferengine.api;

/** Something registered with the engine that {@link #close()} removes. Idempotent. */
public interface Subscription extends AutoCloseable {
    @Override
    void close();
}
