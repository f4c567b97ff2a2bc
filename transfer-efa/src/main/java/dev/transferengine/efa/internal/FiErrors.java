package dev.transferengine.efa.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;

import java.util.Locale;

/**
 * Turns libfabric return codes and error completions into {@link TransferException}s that carry the
 * negated FI_* code and the provider's own text. Stateless.
 *
 * <p>The category comes from the FI_* error first, then from the provider's error number where that is known
 * to be a Linux errno (the socket and shared-memory providers), then from the provider's text. The tcp provider
 * (1.17) reports a write the target refused (unknown key, address outside the registration) only indirectly:
 * the target drops the connection, and the initiator flushes every write in flight on it with FI_ECANCELED and a
 * prov_errno that is only the errno left over in the thread (measured 2 and 107). FI_ECANCELED is therefore
 * PEER_UNREACHABLE here; {@link RefusalTriage} finds the refused write among the canceled ones and reports it as
 * REMOTE_ACCESS.
 */
final class FiErrors {
    private static final int EPIPE = 32;

    private FiErrors() {
    }

    /** A call that returned {@code rc < 0}. */
    static TransferException callFailed(LibfabricLibrary library, String call, long rc) {
        int code = (int) rc;
        String text = library.strerror(-code);
        return new TransferException(category(-code, 0, false, text), call + " failed", code, text, null);
    }

    /**
     * An error completion.
     *
     * @param what            the operation ("RMA write", "send", "receive")
     * @param err             the entry's positive FI_* error
     * @param provErrno       the entry's provider-specific error number
     * @param provErrnoIsErrno whether this provider's prov_errno values are Linux errno values
     * @param providerText    fi_cq_strerror's text for {@code provErrno}
     */
    static TransferException completionFailed(LibfabricLibrary library, String what, int err, int provErrno,
                                              boolean provErrnoIsErrno, String providerText) {
        String fiText = library.strerror(err);
        return new TransferException(category(err, provErrno, provErrnoIsErrno, providerText),
                what + " failed: " + fiText + " (prov_errno " + provErrno + ")", -err, providerText, null);
    }

    static ErrorCategory category(int err, int provErrno, boolean provErrnoIsErrno, String providerText) {
        ErrorCategory byCode = byErrno(err);
        if (byCode != null) {
            return byCode;
        }
        if (provErrnoIsErrno) {
            if (err == FiConst.Err.FI_ECANCELED) {
                // tcpx flushes everything on a dropped connection with FI_ECANCELED and prov_errno = the errno
                // left over in the thread (ofi_sockerr()): meaningless. The refused write is found by RefusalTriage.
                return ErrorCategory.PEER_UNREACHABLE;
            }
            ErrorCategory byProv = provErrno == EPIPE ? ErrorCategory.PEER_UNREACHABLE : byErrno(provErrno);
            if (byProv != null) {
                return byProv;
            }
        }
        String t = providerText == null ? "" : providerText.toLowerCase(Locale.ROOT);
        if (t.contains("unreach") || t.contains("does not exist") || t.contains("connection")) {
            return ErrorCategory.PEER_UNREACHABLE;
        }
        if (t.contains("access") || t.contains("key") || t.contains("protection") || t.contains("permission")
                || t.contains("bad address") || t.contains("invalid address")) {
            return ErrorCategory.REMOTE_ACCESS;
        }
        return ErrorCategory.PROVIDER;
    }

    private static ErrorCategory byErrno(int errno) {
        return switch (errno) {
            case FiConst.Err.FI_EACCES, FiConst.Err.FI_EKEYREJECTED, FiConst.Err.FI_ENOKEY, FiConst.Err.FI_EPERM ->
                    ErrorCategory.REMOTE_ACCESS;
            case FiConst.Err.FI_ECONNREFUSED, FiConst.Err.FI_ECONNRESET, FiConst.Err.FI_ECONNABORTED,
                 FiConst.Err.FI_EHOSTUNREACH, FiConst.Err.FI_ENOTCONN, FiConst.Err.FI_ETIMEDOUT ->
                    ErrorCategory.PEER_UNREACHABLE;
            default -> null;
        };
    }

    /** Whether {@code providerName}'s prov_errno values are Linux errno values (socket and shm providers). */
    static boolean provErrnoIsErrno(String providerName) {
        String p = providerName == null ? "" : providerName.toLowerCase(Locale.ROOT);
        return p.contains("tcp") || p.contains("rxm") || p.contains("sockets") || p.contains("udp")
                || p.startsWith("shm");
    }
}
