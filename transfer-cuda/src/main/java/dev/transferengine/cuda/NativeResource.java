package dev.transferengine.cuda;

import dev.transferengine.api.ClosedException;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One native resource with one owner: {@link #close()} is idempotent and thread-safe (the first call frees,
 * later calls do nothing), and use after close fails with {@link ClosedException} naming the resource.
 */
abstract class NativeResource implements AutoCloseable {
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Frees the native resource; called once. */
    abstract void release();

    /** What this is, for messages ({@code "device memory 0x7f.. (1 MiB, device 0)"}). */
    abstract String describe();

    final void ensureOpen() {
        if (closed.get()) {
            throw new ClosedException(describe() + " is closed");
        }
    }

    /** Whether {@link #close()} has been called. */
    public final boolean isClosed() {
        return closed.get();
    }

    /** Frees the native resource. Idempotent; closing twice is harmless. */
    @Override
    public final void close() {
        if (closed.compareAndSet(false, true)) {
            release();
        }
    }

    @Override
    public String toString() {
        return describe() + (closed.get() ? " (closed)" : "");
    }
}
