package dev.transferengine.kits.kv;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;

/**
 * A KV hand-off that did not complete: the prefiller stopped answering heartbeats
 * ({@link KvTransfer.State#LOST}, category {@link ErrorCategory#PEER_UNREACHABLE}), or one of its writes failed
 * and the decoder cancelled the rest ({@link KvTransfer.State#FAILED}), or the decoder was closed
 * ({@link ErrorCategory#CLOSED}).
 */
public final class KvTransferException extends TransferException {
    private static final long serialVersionUID = 1L;
    private final transient KvTransfer.State state;

    public KvTransferException(KvTransfer.State state, ErrorCategory category, String message) {
        super(category, message);
        this.state = state;
    }

    /** The transfer's final state. */
    public KvTransfer.State state() {
        return state;
    }
}
