package dev.transferengine.kits.kv;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.ImmExpectation;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferTimeoutException;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.IntConsumer;

/**
 * The decoder's handle on one hand-off ({@link KvDecoder#requestPrefill}). It completes only by counting imms:
 * every decoder rank expects {@link #expectedImms(int)} imms of value {@link #imm()}, registered before the
 * request was sent; no "done" message exists.
 *
 * <p>{@link #cancel()} asks every prefiller rank to stop. The pages are released (the future completes) only when
 * every prefiller rank confirmed and the imms its confirmed writes carried have all been counted here: a write
 * still on its way could otherwise land in a page already given to another request. A prefiller rank that does
 * not answer heartbeats for the decoder's timeout makes the transfer {@link State#LOST}: its imm counters are
 * removed ({@link TransferEngine#removeImmCounter}) and the application decides about the pages (safe once that
 * prefiller is known dead). Thread-safe.
 */
public final class KvTransfer {
    /** Where a transfer is. */
    public enum State {
        /** Writes are landing. */
        RUNNING,
        /** Stop asked (cancel or a failed write); waiting for every prefiller rank's confirmation. */
        CANCELLING,
        /** Every imm arrived: the pages hold the prompt's KV. */
        DONE,
        /** Cancelled and confirmed: the pages may be reused. */
        CANCELLED,
        /** A write failed; the rest was cancelled and confirmed: the pages may be reused. */
        FAILED,
        /** A prefiller rank stopped answering: counters removed, pages safe only once it is known dead. */
        LOST
    }

    private final KvDecoder decoder;
    private final long requestId;
    private final int imm;
    private final List<DomainAddress> prefillers;
    private final List<TransferEngine> engines;
    private final long[] expected;
    private final ImmExpectation[] expectations;
    private final long startNanos = System.nanoTime();
    private final long[][] confirmations;
    /** {@code feeds[p][d]}: prefiller rank p writes to decoder rank d (they share heads). */
    private final boolean[][] feeds;
    /** Runs on a decoder rank's callback thread once all its imms arrived (flushes staged GPU memory). */
    private final IntConsumer landed;
    /** Per decoder rank: the count at the last tick, and when it last grew (heartbeat thread only). */
    private final long[] countAtTick;
    private final long[] progressNanos;
    private final CompletableFuture<State> settled = new CompletableFuture<>();
    private final CompletableFuture<Void> completion = new CompletableFuture<>();

    private State state = State.RUNNING;
    private State stopAs;
    private String failure;
    private int ranksReached;

    KvTransfer(KvDecoder decoder, long requestId, int imm, List<DomainAddress> prefillers,
               List<TransferEngine> engines, long[] expected, boolean[][] feeds, IntConsumer landed) {
        this.decoder = decoder;
        this.requestId = requestId;
        this.imm = imm;
        this.prefillers = List.copyOf(prefillers);
        this.engines = List.copyOf(engines);
        this.expected = expected.clone();
        this.expectations = new ImmExpectation[engines.size()];
        this.confirmations = new long[prefillers.size()][];
        this.feeds = feeds;
        this.landed = landed;
        this.countAtTick = new long[engines.size()];
        this.progressNanos = new long[engines.size()];
        Arrays.fill(progressNanos, startNanos);
    }

    /** Registers every rank's expectation; on failure removes those already registered. */
    void expect() {
        try {
            for (int d = 0; d < engines.size(); d++) {
                int rank = d;
                expectations[d] = engines.get(d).expectImms(imm, expected[d], () -> rankReached(rank));
            }
        } catch (RuntimeException e) {
            for (ImmExpectation x : expectations) {
                if (x != null) {
                    x.cancel();
                }
            }
            throw e;
        }
    }

    public long requestId() {
        return requestId;
    }

    /** The imm value every write of this transfer carries. */
    public int imm() {
        return imm;
    }

    /** The imms decoder rank {@code rank} waits for. */
    public long expectedImms(int rank) {
        return expected[rank];
    }

    /** Imms decoder rank {@code rank} counted so far. */
    public long countedImms(int rank) {
        return expectations[rank].counted();
    }

    public synchronized State state() {
        return state;
    }

    List<DomainAddress> prefillers() {
        return prefillers;
    }

    /**
     * Completes when every imm arrived; exceptionally with {@link CancellationException} once a cancel is
     * confirmed, or {@link KvTransferException} when a write failed or a prefiller was lost.
     */
    public CompletableFuture<Void> completion() {
        return completion;
    }

    /**
     * Waits for {@link #completion()}.
     *
     * @throws TransferTimeoutException when it did not complete in time (the transfer keeps running)
     * @throws KvTransferException      when it failed or a prefiller was lost
     * @throws CancellationException    when it was cancelled
     */
    public void await(Duration timeout) {
        try {
            completion.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new TransferTimeoutException("KV request " + requestId + " not complete after " + timeout
                    + " (" + describeCounts() + ")");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransferException(ErrorCategory.CLOSED, "interrupted waiting for KV request " + requestId);
        }
    }

    /**
     * Asks every prefiller rank to stop. The future gives the final state once the pages may be reused
     * ({@link State#CANCELLED}; {@link State#DONE} when everything had landed already; {@link State#FAILED}), or
     * {@link State#LOST} when a prefiller rank stopped answering. Idempotent.
     */
    public CompletableFuture<State> cancel() {
        stop(State.CANCELLED, null);
        return settled;
    }

    /** A future of the final state (see {@link #cancel()}), without asking anything. */
    public CompletableFuture<State> settled() {
        return settled;
    }

    void stop(State as, String reason) {
        synchronized (this) {
            if (state != State.RUNNING) {
                return;
            }
            state = State.CANCELLING;
            stopAs = as;
            failure = reason;
        }
        decoder.sendCancel(this);
    }

    private void rankReached(int rank) {
        try {
            landed.accept(rank);
        } catch (TransferException e) {
            finish(State.FAILED, e.category(), "decoder rank " + rank + ": " + e.getMessage());
            return;
        }
        boolean all;
        synchronized (this) {
            all = ++ranksReached == engines.size();
        }
        if (all) {
            finish(State.DONE, null, null);
        }
    }

    /** A prefiller rank confirmed the cancel, with the imms its writes carried to each decoder rank. */
    void confirmed(DomainAddress from, long[] immsPerDecoderRank) {
        int p = prefillers.indexOf(from);
        if (p < 0) {
            return;
        }
        synchronized (this) {
            confirmations[p] = immsPerDecoderRank.clone();
        }
        tryRelease();
    }

    /**
     * Heartbeat tick (heartbeat thread only): a silent prefiller rank makes the transfer LOST; a pending release is
     * retried. A rank counts as heard from when it answered a ping or when a decoder rank it writes to counted more
     * imms since the last tick: its pong may wait behind thousands of its own writes in its engine's queue, and
     * those writes landing are proof enough that someone is alive (a dead rank whose decoder ranks are also fed by
     * live ones is found once they stop).
     */
    void tick(long nowNanos, Function<DomainAddress, Long> lastSeen, long timeoutNanos) {
        for (int d = 0; d < engines.size(); d++) {
            long counted = expectations[d].counted();
            if (counted > countAtTick[d]) {
                countAtTick[d] = counted;
                progressNanos[d] = nowNanos;
            }
        }
        for (int p = 0; p < prefillers.size(); p++) {
            Long seen = lastSeen.apply(prefillers.get(p));
            long since = seen == null ? startNanos : Math.max(seen, startNanos);
            for (int d = 0; d < engines.size(); d++) {
                if (feeds[p][d]) {
                    since = Math.max(since, progressNanos[d]);
                }
            }
            if (nowNanos - since > timeoutNanos) {
                finish(State.LOST, ErrorCategory.PEER_UNREACHABLE, "prefiller rank " + p + " (" + prefillers.get(p) + ") silent for "
                        + Duration.ofNanos(nowNanos - since).toMillis() + " ms");
                return;
            }
        }
        tryRelease();
    }

    /** Releases a cancelled transfer once every confirmation arrived and every confirmed imm was counted. */
    private void tryRelease() {
        State as;
        synchronized (this) {
            if (state != State.CANCELLING) {
                return;
            }
            for (int d = 0; d < engines.size(); d++) {
                long owed = 0;
                for (long[] c : confirmations) {
                    if (c == null) {
                        return;
                    }
                    owed += d < c.length ? c[d] : 0;
                }
                if (expectations[d].counted() < owed) {
                    return;
                }
            }
            as = stopAs;
        }
        finish(as, ErrorCategory.PROVIDER, failure);
    }

    /** Ends the transfer (no-op once ended); {@code category} and {@code reason} describe a failure. */
    void finish(State end, ErrorCategory category, String reason) {
        synchronized (this) {
            if (state != State.RUNNING && state != State.CANCELLING) {
                return;
            }
            state = end;
        }
        if (end != State.DONE) {
            removeCounters();
        }
        decoder.forget(this);
        switch (end) {
            case DONE -> completion.complete(null);
            case CANCELLED -> completion.completeExceptionally(
                    new CancellationException("KV request " + requestId + " cancelled"));
            default -> completion.completeExceptionally(new KvTransferException(end, category,
                    "KV request " + requestId + (end == State.LOST ? " lost: " : " failed: ") + reason));
        }
        settled.complete(end);
    }

    private void removeCounters() {
        for (TransferEngine e : engines) {
            e.removeImmCounter(imm);
        }
    }

    private String describeCounts() {
        StringBuilder s = new StringBuilder();
        for (int d = 0; d < engines.size(); d++) {
            s.append(d == 0 ? "" : ", ").append("rank ").append(d).append(": ")
                    .append(expectations[d] == null ? 0 : expectations[d].counted()).append('/').append(expected[d]);
        }
        return s.append(" imms").toString();
    }

    @Override
    public String toString() {
        return "KvTransfer[" + requestId + ", imm 0x" + Integer.toHexString(imm) + ", " + state() + "]";
    }
}
