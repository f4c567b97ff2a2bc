package dev.transferengine.api;

import java.util.function.Consumer;

/**
 * Completion callback for one request: exactly one of {@link #onDone()} or {@link #onError} is called,
 * exactly once, on the engine's callback executor (never on the worker). "Done" means the source
 * buffer may be reused; it does not prove the bytes landed remotely (the receiver counts imms for that).
 *
 * <p>A callback that throws is reported (logged) and never stops the engine.
 */
public interface TransferCallback {
    void onDone();

    void onError(TransferException error);

    /** Builds a callback from two lambdas. */
    static TransferCallback of(Runnable onDone, Consumer<TransferException> onError) {
        return new TransferCallback() {
            @Override
            public void onDone() {
                onDone.run();
            }

            @Override
            public void onError(TransferException error) {
                onError.accept(error);
            }
        };
    }
}
