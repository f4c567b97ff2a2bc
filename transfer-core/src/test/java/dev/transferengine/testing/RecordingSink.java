package dev.transferengine.testing;

import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one recording {@link CompletionSink} of the provider-level tests (loopback, libfabric, verbs): everything a
 * domain's poll delivers, in delivery order, with the SPI's exactly-once rule checked: a context's second outcome
 * (completion, error or receive) is counted in {@link #duplicates()} and throws {@link AssertionError} at once.
 * Single-threaded, like the poll that feeds it.
 */
public final class RecordingSink implements CompletionSink {
    /** Contexts of successful operations, in order. */
    public final List<Long> completed = new ArrayList<>();
    /** Failed operations: context to error, in order. */
    public final Map<Long, TransferException> errors = new LinkedHashMap<>();
    /** Receives that completed: context to message length, in order. */
    public final Map<Long, Long> received = new LinkedHashMap<>();
    /** Imms that arrived, in order. */
    public final List<Integer> imms = new ArrayList<>();
    private final Set<Long> reported = new HashSet<>();
    private int duplicates;

    @Override
    public void onComplete(long context) {
        once(context);
        completed.add(context);
    }

    @Override
    public void onReceive(long context, long lengthBytes) {
        once(context);
        received.put(context, lengthBytes);
    }

    @Override
    public void onError(long context, TransferException error) {
        once(context);
        errors.put(context, error);
    }

    @Override
    public void onImm(int imm) {
        imms.add(imm);
    }

    private void once(long context) {
        if (!reported.add(context)) {
            duplicates++;
            throw new AssertionError("context " + context + " reported twice (the SPI promises one outcome each)");
        }
    }

    /** Whether the operation with this context reported its outcome. */
    public boolean finished(long context) {
        return reported.contains(context);
    }

    /** Completions and errors together: the operations (not receives) that finished. */
    public int outcomes() {
        return completed.size() + errors.size();
    }

    /** Everything delivered: completions, errors, receives and imms. */
    public int events() {
        return outcomes() + received.size() + imms.size();
    }

    /** How many times {@code imm} arrived. */
    public long immCount(int imm) {
        return imms.stream().filter(i -> i == imm).count();
    }

    /** Second outcomes seen (each also threw): 0 unless the provider broke the exactly-once rule. */
    public int duplicates() {
        return duplicates;
    }
}
