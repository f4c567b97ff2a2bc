package dev.transferengine.core;

import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.RegisteredMemory;

/**
 * The writes a domain decorator ({@link SplittingDomain}, {@link StagingDomain}) posts as several pieces of
 * its own: a fixed pool of {@link PiecedWrite}s, the list of those in flight (oldest first), and the rule
 * that hands a write back to the worker exactly once, when each of its pieces is accounted for.
 *
 * <p>Single-threaded (the owning worker). Allocation-free after construction.
 */
final class PiecedWrites {
    private final PiecedWrite[] writes;
    private final int[] free;
    private int freeCount;
    private final int[] active;
    private int activeCount;

    PiecedWrites(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        writes = new PiecedWrite[capacity];
        free = new int[capacity];
        active = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            writes[i] = new PiecedWrite(i);
            free[freeCount++] = capacity - 1 - i;
        }
    }

    /** Whether a write can be started now. */
    boolean hasFree() {
        return freeCount > 0;
    }

    /** The index {@link #start} will use next (so a first piece can be posted under its context before). */
    int nextIndex() {
        return free[freeCount - 1];
    }

    /** Takes the next free write, appends it to the in-flight list and returns it; {@link #hasFree} first. */
    PiecedWrite start(long peer, RegisteredMemory src, long srcAddress, long length, long remoteAddress,
                      long remoteKey, boolean withImm, int imm, long context, long pieces) {
        PiecedWrite w = writes[free[--freeCount]];
        w.peer = peer;
        w.src = src;
        w.srcAddress = srcAddress;
        w.length = length;
        w.remoteAddress = remoteAddress;
        w.remoteKey = remoteKey;
        w.withImm = withImm;
        w.imm = imm;
        w.context = context;
        w.pieces = pieces;
        w.startNanos = System.nanoTime();
        active[activeCount++] = w.index;
        return w;
    }

    /** Writes in flight. */
    int activeCount() {
        return activeCount;
    }

    /** The {@code k}-th write in flight, oldest first ({@code k < activeCount()}). */
    PiecedWrite active(int k) {
        return writes[active[k]];
    }

    /** The write with pool index {@code index} (from a piece's context). */
    PiecedWrite byIndex(int index) {
        return writes[index];
    }

    /**
     * Hands out the writes whose pieces are all accounted for: after an error once no piece is outstanding,
     * otherwise once every piece completed, and abandoned ones at once; one {@code onComplete} or {@code onError}
     * each, with the context the worker gave. Returns how many were handed out.
     */
    int finish(CompletionSink sink) {
        int finished = 0;
        int kept = 0;
        int n = activeCount;
        for (int k = 0; k < n; k++) {
            PiecedWrite w = writes[active[k]];
            boolean done = w.abandoned || (w.error != null ? w.outstanding == 0 : w.completed == w.pieces);
            if (!done) {
                active[kept++] = w.index;
                continue;
            }
            long context = w.context;
            TransferException error = w.error;
            w.clear();
            free[freeCount++] = w.index;
            if (error == null) {
                sink.onComplete(context);
            } else {
                sink.onError(context, error);
            }
            finished++;
        }
        activeCount = kept;
        return finished;
    }

    /** One write going out as pieces: where it goes, how many pieces it has, were started, are out, completed. */
    static final class PiecedWrite {
        final int index;
        long peer;
        /** The registration pieces are posted from (null where the decorator posts from memory of its own). */
        RegisteredMemory src;
        long srcAddress;
        long length;
        long remoteAddress;
        long remoteKey;
        boolean withImm;
        int imm;
        long context;
        long pieces;
        long nextPiece;
        /** Pieces started and not yet accounted for (posted, or copying into a bounce slot). */
        long outstanding;
        long completed;
        TransferException error;
        /** When {@link PiecedWrites#start} took it (System.nanoTime). */
        long startNanos;
        /** Bumped each time the write is freed: pieces of an earlier use carry an older value. */
        int generation;
        /** Given up with pieces outstanding that may never be reported (a silent peer): freed at the next finish. */
        boolean abandoned;

        PiecedWrite(int index) {
            this.index = index;
        }

        /** Keeps the first error: the write fails with it once its outstanding pieces are accounted for. */
        void fail(TransferException e) {
            if (error == null) {
                error = e;
            }
        }

        /**
         * Gives the write up with {@code e}: it is handed back at the next {@link PiecedWrites#finish} even with
         * pieces outstanding, whose late reports must then be recognised by {@link #generation} and ignored.
         */
        void abandon(TransferException e) {
            fail(e);
            abandoned = true;
        }

        void clear() {
            generation++;
            abandoned = false;
            src = null;
            nextPiece = 0;
            outstanding = 0;
            completed = 0;
            error = null;
        }
    }
}
