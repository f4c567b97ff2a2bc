package dev.transferengine.bench;

/** A benchmark that cannot go on: a write failed, timed out, or landed the wrong bytes. */
public final class BenchFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BenchFailure(String message) {
        super(message);
    }

    public BenchFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
