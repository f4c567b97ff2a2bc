package dev.transferengine.spi;

import dev.transferengine.api.TransferException;

/**
 * Where {@link ProviderDomain#poll} delivers completions. Called on the worker thread, inside
 * {@code poll}; implementations must not block or throw.
 */
public interface CompletionSink {

    /** A posted WRITE or SEND with this context completed locally (its source may be reused). */
    void onComplete(long context);

    /** A posted receive with this context got a message of {@code lengthBytes}. */
    void onReceive(long context, long lengthBytes);

    /** A posted operation with this context failed. */
    void onError(long context, TransferException error);

    /** A remote WRITE carrying {@code imm} landed in this domain's memory. */
    void onImm(int imm);
}
