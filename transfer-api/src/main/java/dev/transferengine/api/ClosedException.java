package dev.transferengine.api;

/**
 * The engine, a region or a receive was closed. Requests submitted after {@link TransferEngine#close()}
 * throw it; requests in flight when the engine closes fail with it.
 */
public class ClosedException extends TransferException {
    private static final long serialVersionUID = 1L;

    public ClosedException(String message) {
        super(ErrorCategory.CLOSED, message);
    }
}
