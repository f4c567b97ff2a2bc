package dev.transferengine.testing;

import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

/**
 * A {@link CompletionSink} that only counts, allocating nothing: for the providers' allocation tests, which
 * drive a domain directly and must not measure their own bookkeeping. Single-threaded, like a domain's poll.
 */
public final class CountingSink implements CompletionSink {
    public long completed;
    public long received;
    public long imms;
    public long errors;

    @Override
    public void onComplete(long context) {
        completed++;
    }

    @Override
    public void onReceive(long context, long lengthBytes) {
        received++;
    }

    @Override
    public void onError(long context, TransferException error) {
        errors++;
    }

    @Override
    public void onImm(int imm) {
        imms++;
    }
}
