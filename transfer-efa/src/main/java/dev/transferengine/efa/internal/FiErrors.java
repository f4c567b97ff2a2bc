package dev.transferengine.efa.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;

import java.util.Locale;

/**
 * Turns libfabric return codes and error completions into {@link TransferException}s that carry the
 * negated FI_* code and the provider's own text. Stateless.
 */
final class FiErrors {
    private FiErrors() {
    }

    /** A call that returned {@code rc < 0}. */
    static TransferException callFailed(LibfabricLibrary library, String call, long rc) {
        int code = (int) rc;
        String text = library.strerror(-code);
        return new TransferException(category(-code, text), call + " failed", code, text, null);
    }

    /**
     * An error completion.
     *
     * @param what          the operation ("RMA write", "send", "receive")
     * @param err           the entry's positive FI_* error
     * @param provErrno     the entry's provider-specific error number
     * @param providerText  fi_cq_strerror's text for {@code provErrno}
     */
    static TransferException completionFailed(LibfabricLibrary library, String what, int err, int provErrno,
                                              String providerText) {
        String fiText = library.strerror(err);
        return new TransferException(category(err, providerText),
                what + " failed: " + fiText + " (prov_errno " + provErrno + ")", -err, providerText, null);
    }

    /**
     * REMOTE_ACCESS when the code or the provider's text says the remote side refused the access (bad key,
     * address outside the region); PEER_UNREACHABLE for connection errors; PROVIDER otherwise.
     */
    static ErrorCategory category(int err, String providerText) {
        switch (err) {
            case FiConst.Err.FI_EACCES, FiConst.Err.FI_EKEYREJECTED, FiConst.Err.FI_ENOKEY, FiConst.Err.FI_EPERM:
                return ErrorCategory.REMOTE_ACCESS;
            case FiConst.Err.FI_ECONNREFUSED, FiConst.Err.FI_ECONNRESET, FiConst.Err.FI_ECONNABORTED,
                 FiConst.Err.FI_EHOSTUNREACH, FiConst.Err.FI_ENOTCONN:
                return ErrorCategory.PEER_UNREACHABLE;
            default:
                break;
        }
        String t = providerText == null ? "" : providerText.toLowerCase(Locale.ROOT);
        if (t.contains("access") || t.contains("key") || t.contains("protection") || t.contains("permission")) {
            return ErrorCategory.REMOTE_ACCESS;
        }
        return ErrorCategory.PROVIDER;
    }
}
