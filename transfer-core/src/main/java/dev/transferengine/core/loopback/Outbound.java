package dev.transferengine.core.loopback;

import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

import java.util.random.RandomGenerator;

/**
 * A domain's posted WRITEs and SENDs: a fixed pool of reusable {@link Operation} slots, the order in which
 * they are applied, and the delivery of their local completions. Operations wait in {@code waiting} until
 * due ({@code loopback.delayNanos}), then in {@code ready} until applied; one that cannot be applied yet
 * (no receive posted at the peer, the peer's inbound queue full) goes back to the end of {@code ready}.
 * Owned by one worker thread; allocates nothing after construction.
 */
final class Outbound {
    private final Operation[] operations;
    private final int[] free;
    private int freeCount;
    private final IntRing waiting;
    private final IntRing ready;
    private final long delayNanos;
    private final RandomGenerator reorder;
    private final OperationApplier applier;

    /** @param reorder null to apply in posting order */
    Outbound(int capacity, long delayNanos, RandomGenerator reorder, OperationApplier applier) {
        this.operations = new Operation[capacity];
        this.free = new int[capacity];
        for (int slot = 0; slot < capacity; slot++) {
            operations[slot] = new Operation(slot);
            operations[slot].reset();
            free[slot] = capacity - 1 - slot;
        }
        this.freeCount = capacity;
        this.waiting = new IntRing(capacity);
        this.ready = new IntRing(capacity);
        this.delayNanos = delayNanos;
        this.reorder = reorder;
        this.applier = applier;
    }

    /** Operations posted and not yet completed. */
    int inFlight() {
        return operations.length - freeCount;
    }

    /** A cleared slot to fill in and {@link #post}; the caller checked that one is free. */
    Operation claim() {
        return operations[free[--freeCount]];
    }

    void post(Operation operation) {
        if (delayNanos > 0) {
            operation.dueNanos = System.nanoTime() + delayNanos;
            waiting.add(operation.slot);
        } else {
            ready.add(operation.slot);
        }
    }

    /** Applies what it can and delivers up to {@code budget} local completions; returns how many. */
    int progress(CompletionSink sink, int budget) {
        if (!waiting.isEmpty()) {
            admitDue(System.nanoTime());
        }
        applier.newPoll();
        int delivered = 0;
        boolean copying = false;
        // Each ready operation gets at most one attempt per poll, so blocked ones cannot spin here.
        for (int attempts = ready.size(); attempts > 0 && delivered < budget; attempts--) {
            Operation operation = operations[ready.take(reorder)];
            if (applier.apply(operation)) {
                if (complete(operation, sink)) {
                    delivered++;
                }
            } else {
                copying |= operation.copyQueue != null;
                ready.add(operation.slot);
            }
        }
        applier.endPoll();
        // A device copy in flight finishes without anyone waking the worker: report work so it keeps polling
        // (the GPU, not a peer, decides when the imm can go out) instead of parking in its idle strategy.
        return copying && delivered == 0 ? 1 : delivered;
    }

    /** Forgets every pending operation without reporting it (used by close: nobody polls any more). */
    void dropAll() {
        waiting.clear();
        ready.clear();
        freeCount = 0;
        for (Operation operation : operations) {
            operation.reset();
            free[freeCount++] = operation.slot;
        }
    }

    private void admitDue(long now) {
        // Waiting operations were posted in order with one fixed delay, so the due ones form a prefix.
        while (!waiting.isEmpty() && now - operations[waiting.peek()].dueNanos >= 0) {
            ready.add(waiting.take(null));
        }
    }

    /** Frees the operation's slot and reports its outcome; false for a silent one (nothing reported). */
    private boolean complete(Operation operation, CompletionSink sink) {
        long context = operation.context;
        TransferException error = operation.error;
        boolean silent = operation.silent;
        operation.reset();
        free[freeCount++] = operation.slot;
        if (silent) {
            return false;
        }
        // The slot is free before the sink runs, so a sink that posts from inside the callback finds room.
        if (error == null) {
            sink.onComplete(context);
        } else {
            sink.onError(context, error);
        }
        return true;
    }
}
