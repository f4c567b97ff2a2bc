package dev.transferengine.core.loopback;

import dev.transferengine.core.LoopbackOptions;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;

/**
 * The errors the loopback provider reports through {@link dev.transferengine.spi.CompletionSink#onError},
 * each naming what was wrong (peer, key, address range). Only built on failure paths.
 */
final class LoopbackErrors {
    private LoopbackErrors() {
    }

    static TransferException peerUnreachable(long peerId, Operation op) {
        return new TransferException(ErrorCategory.PEER_UNREACHABLE, "loopback domain #" + peerId
                + " is closed or was never opened in this process: " + what(op) + " not delivered");
    }

    static TransferException unknownKey(long peerId, long key) {
        return new TransferException(ErrorCategory.REMOTE_ACCESS, "loopback domain #" + peerId
                + " has no registration with remote key 0x" + Long.toHexString(key)
                + " (wrong or deregistered key); nothing was written");
    }

    static TransferException notRemotelyWritable(long peerId, LoopbackRegistration target) {
        return new TransferException(ErrorCategory.REMOTE_ACCESS, "registration " + target.describe()
                + " of loopback domain #" + peerId + " does not allow remote writes; nothing was written");
    }

    static TransferException outOfBounds(long peerId, long remoteAddress, long length, LoopbackRegistration target) {
        return new TransferException(ErrorCategory.REMOTE_ACCESS, "remote range [0x"
                + Long.toHexString(remoteAddress) + ", +" + length + " bytes) is outside registration "
                + target.describe() + " of loopback domain #" + peerId + "; nothing was written");
    }

    static TransferException targetFreed(long peerId, LoopbackRegistration target, RuntimeException cause) {
        return new TransferException(ErrorCategory.REMOTE_ACCESS, "the memory of registration "
                + target.describe() + " of loopback domain #" + peerId + " was freed while registered",
                cause);
    }

    static TransferException sourceFreed(LoopbackRegistration source, RuntimeException cause) {
        return new TransferException(ErrorCategory.CLOSED, "the memory of source registration "
                + source.describe() + " was freed before the operation was applied", cause);
    }

    static TransferException injected(long failEveryNth, long ordinal) {
        return new TransferException(ErrorCategory.PROVIDER, "injected failure of write #" + ordinal
                + " (" + LoopbackOptions.FAIL_EVERY_NTH + "=" + failEveryNth + "); nothing was written");
    }

    static TransferException sendTooLong(long peerId, long messageBytes, long bufferBytes) {
        return new TransferException(ErrorCategory.PROVIDER, "a SEND of " + messageBytes
                + " bytes does not fit the " + bufferBytes + "-byte receive buffer posted by loopback domain #"
                + peerId + "; that receive failed too");
    }

    static TransferException sendBufferGone(long peerId, long key) {
        return new TransferException(ErrorCategory.REMOTE_ACCESS, "the receive buffer (key 0x"
                + Long.toHexString(key) + ") posted by loopback domain #" + peerId
                + " was deregistered or freed before the SEND arrived; that receive failed too");
    }

    static TransferException receiveTooSmall(long context, long messageBytes, long bufferBytes) {
        return new TransferException(ErrorCategory.PROVIDER, "a message of " + messageBytes
                + " bytes arrived for the receive with context " + context + ", whose buffer holds only "
                + bufferBytes + " bytes");
    }

    static TransferException receiveBufferGone(long context, long key) {
        return new TransferException(ErrorCategory.CLOSED, "the buffer (key 0x" + Long.toHexString(key)
                + ") of the receive with context " + context
                + " was deregistered or freed before a message arrived");
    }

    private static String what(Operation op) {
        return (op.kind == Operation.WRITE ? "WRITE" : "SEND") + " with context " + op.context;
    }
}
