package dev.transferengine.verbs.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;

/**
 * Maps an error completion's {@code ibv_wc_status} to a typed {@link TransferException} carrying the status
 * and libibverbs' own text ({@code ibv_wc_status_str}). Stateless.
 */
final class CompletionErrors {
    private CompletionErrors() {
    }

    static TransferException of(int status, int vendorError, String operation) {
        String text = VerbsLibrary.wcStatusString(status);
        ErrorCategory category = category(status);
        String message = "verbs: " + operation + " failed: " + explain(status)
                + (vendorError != 0 ? " (vendor error 0x" + Integer.toHexString(vendorError) + ")" : "");
        return new TransferException(category, message, status, text, null);
    }

    static ErrorCategory category(int status) {
        return switch (status) {
            case Ibv.IBV_WC_REM_ACCESS_ERR -> ErrorCategory.REMOTE_ACCESS;
            case Ibv.IBV_WC_RETRY_EXC_ERR, Ibv.IBV_WC_RNR_RETRY_EXC_ERR, Ibv.IBV_WC_RESP_TIMEOUT_ERR,
                 Ibv.IBV_WC_WR_FLUSH_ERR -> ErrorCategory.PEER_UNREACHABLE;
            default -> ErrorCategory.PROVIDER;
        };
    }

    private static String explain(int status) {
        return switch (status) {
            case Ibv.IBV_WC_REM_ACCESS_ERR -> "the peer rejected the access (wrong remote key, or an address outside"
                    + " the remote registration)";
            case Ibv.IBV_WC_RETRY_EXC_ERR -> "the peer did not acknowledge (transport retries exhausted: peer gone?)";
            case Ibv.IBV_WC_RNR_RETRY_EXC_ERR -> "the peer had no receive posted (RNR retries exhausted)";
            case Ibv.IBV_WC_WR_FLUSH_ERR -> "flushed: the queue pair was in error after an earlier failure";
            case Ibv.IBV_WC_LOC_LEN_ERR -> "a received message was longer than the posted receive buffer";
            case Ibv.IBV_WC_REM_INV_REQ_ERR -> "the peer rejected the request as invalid (message longer than its"
                    + " receive buffer?)";
            case Ibv.IBV_WC_LOC_PROT_ERR -> "local protection error (buffer not registered with this domain?)";
            default -> "completion status " + status;
        };
    }
}
