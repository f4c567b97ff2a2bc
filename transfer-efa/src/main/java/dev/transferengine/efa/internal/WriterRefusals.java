package dev.transferengine.efa.internal;

import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

import java.util.ArrayDeque;

/**
 * Writes the domain refused itself before posting them ({@link PeerKeyTable}: a stale, forged or out-of-range
 * descriptor of a same-host peer). Like a NIC's error completion, the refusal is reported through the next
 * {@code poll}, not thrown from the post, so the engine handles it as any failed write. Error path only: a refusal
 * allocates. Single-threaded.
 */
final class WriterRefusals {
    private record Refusal(long context, TransferException error) {
    }

    private final ArrayDeque<Refusal> pending = new ArrayDeque<>();

    void refuse(long context, TransferException error) {
        pending.add(new Refusal(context, error));
    }

    /** Reports up to {@code max} refusals; returns how many. */
    int deliver(CompletionSink sink, int max) {
        int n = 0;
        while (n < max && !pending.isEmpty()) {
            Refusal r = pending.poll();
            sink.onError(r.context(), r.error());
            n++;
        }
        return n;
    }
}
