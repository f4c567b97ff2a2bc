package dev.transferengine.verbs.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;

/** Turns native failures into {@link TransferException}s that carry the errno and its text. */
public final class NativeErrors {
    /** errno values the provider tests for (Linux x86-64). */
    public static final int ENOENT = 2;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int ENODATA = 61;
    public static final int ENOSYS = 38;
    public static final int EFAULT = 14;
    public static final int EPROTONOSUPPORT = 93;
    /** Also {@code ENOTSUP}: the same value on Linux. */
    public static final int EOPNOTSUPP = 95;

    private NativeErrors() {
    }

    /** A failed libibverbs call: {@code call} is the C function, {@code errno} what it reported. */
    public static TransferException call(String call, int errno) {
        return new TransferException(ErrorCategory.PROVIDER, "verbs: " + call + " failed", errno,
                VerbsLibrary.strerror(errno), null);
    }

    /** A Throwable from a downcall itself (a linkage bug, never caller input). */
    public static TransferException unexpected(String call, Throwable t) {
        if (t instanceof TransferException te) {
            return te;
        }
        if (t instanceof Error e && !(t instanceof LinkageError)) {
            throw e;
        }
        return new TransferException(ErrorCategory.INTERNAL, "verbs: " + call + ": " + t, t);
    }
}
