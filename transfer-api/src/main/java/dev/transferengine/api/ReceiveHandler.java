package dev.transferengine.api;

import java.lang.foreign.MemorySegment;

/**
 * Receives SEND messages delivered to persistent ("bouncing") receive buffers. Runs on the callback
 * executor; {@code message} is valid only during the call (the buffer is re-posted afterwards), so copy
 * what you keep.
 */
public interface ReceiveHandler {
    void onMessage(MemorySegment message);

    /** A receive failed (the receive set keeps running unless the engine closed). Default: ignore. */
    default void onError(TransferException error) {
    }
}
