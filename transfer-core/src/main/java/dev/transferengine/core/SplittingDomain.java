package dev.transferengine.core;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferTimeoutException;
import dev.transferengine.core.PiecedWrites.PiecedWrite;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.DomainCapabilities;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;


/**
 * A NIC as the worker sees it, with writes of any length: a write longer than the provider's maximum
 * message size ({@link DomainCapabilities#maxMessageBytes()} of the wrapped domain: 8 MiB on rxe, 1-2 GiB on
 * EFA and ConnectX) goes out as pieces of at most that size. Writes up to the limit, zero-length ones
 * included, go straight to the provider (one comparison).
 *
 * <p>Imm accounting is unchanged: the pieces before the last carry no imm, and the last one, carrying the
 * imm, is posted only after every other piece completed at the initiator (delivery-complete semantics: the
 * bytes have landed), so under unordered delivery the imm still means "every byte of this write is in
 * place". The worker sees exactly one completion or error per write, as for any post. After an error no
 * further piece is posted (the imm piece in particular), and the write fails once its posted pieces are
 * accounted for.
 *
 * <p>{@link #capabilities()} reports {@link #UNLIMITED} as the maximum message size, so the engine stops
 * rejecting large writes; SENDs cannot be split (one message is one receive), so they pass through and the
 * engine keeps validating them against {@link #messageLimit()}, the provider's real limit.
 *
 * <p>Piece contexts have bits 63 and 62 both set (engine write contexts set neither, receive contexts only bit
 * 62, {@link StagingDomain} pieces only bit 63), so their completions are told apart from everything else,
 * and everything else passes through to the worker untouched.
 *
 * <p>Single-threaded like every domain: the owning worker calls every method. Pieces after the first are
 * posted inside {@link #poll}, which the worker calls every iteration. Allocation-free after construction; at
 * most {@code maxWrites} split writes are in flight, further ones answer {@link #RETRY}.
 */
final class SplittingDomain extends ForwardingDomain {
    /** The maximum message size this domain reports: no write is too large. */
    static final long UNLIMITED = Long.MAX_VALUE;
    /** Marks contexts of pieces this domain posted itself: bits 63 and 62. */
    static final long SPLIT_FLAG = 0xC000_0000_0000_0000L;
    static final int DEFAULT_MAX_WRITES = 256;
    /** Pieces posted per {@link #poll} at most, so one huge write cannot keep the worker from its other work. */
    static final int PIECES_PER_POLL = 64;
    private static final long ALIGN = 4096;
    private static final int INDEX_BITS = 24;
    private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;
    private static final long GENERATION_MASK = (1L << 24) - 1;

    private final long limit;
    private final long abandonNanos;
    private final long pieceBytes;
    private final DomainCapabilities capabilities;
    private final Interceptor interceptor = new Interceptor();

    /** Split writes in flight, oldest first. */
    private final PiecedWrites writes;

    SplittingDomain(ProviderDomain inner) {
        this(inner, DEFAULT_MAX_WRITES, Long.MAX_VALUE);
    }

    /** Split writes are never given up (tests). */
    SplittingDomain(ProviderDomain inner, int maxWrites) {
        this(inner, maxWrites, Long.MAX_VALUE);
    }

    /**
     * @param abandonNanos how long a split write may wait for its pieces before it is given up (the engine's
     *                     transfer timeout: by then the engine has failed the transfer with TIMEOUT), so that
     *                     pieces a silent peer never answers cannot hold the table forever
     */
    SplittingDomain(ProviderDomain inner, int maxWrites, long abandonNanos) {
        super(inner);
        this.abandonNanos = abandonNanos;
        if (maxWrites < 1 || maxWrites > INDEX_MASK) {
            throw new IllegalArgumentException("maxWrites must be in 1.." + INDEX_MASK + ", got " + maxWrites);
        }
        DomainCapabilities caps = inner.capabilities();
        this.limit = caps.maxMessageBytes();
        if (limit < 1) {
            throw new IllegalArgumentException(inner + " reports a maximum message size of " + limit);
        }
        // Pieces of a page multiple where the limit allows it, so every piece but the last starts aligned.
        this.pieceBytes = limit >= 2 * ALIGN ? limit & -ALIGN : limit;
        this.capabilities = new DomainCapabilities(UNLIMITED, caps.remoteImm(), caps.hostMemoryOnly(),
                caps.linkSpeedBitsPerSec());
        this.writes = new PiecedWrites(maxWrites);
    }


    /** The provider's real maximum message size: the limit for SENDs and receive buffers. */
    long messageLimit() {
        return limit;
    }

    /** The length of every piece but the last of a split write. */
    long pieceBytes() {
        return pieceBytes;
    }

    /** Split writes in flight (tests). */
    int splitWritesInFlight() {
        return writes.activeCount();
    }

    @Override
    public DomainCapabilities capabilities() {
        return capabilities;
    }

    @Override
    public int postWrite(long peer, RegisteredMemory src, long srcAddress, long length, long remoteAddress,
                         long remoteKey, boolean withImm, int imm, long context) {
        if (length <= limit) {
            return inner.postWrite(peer, src, srcAddress, length, remoteAddress, remoteKey, withImm, imm, context);
        }
        if ((context & SPLIT_FLAG) == SPLIT_FLAG) {
            throw new InvalidRequestException("context 0x" + Long.toHexString(context) + " uses the bits reserved"
                    + " for split-write pieces");
        }
        if (!writes.hasFree()) {
            return RETRY;
        }
        int index = writes.nextIndex();
        // The first piece goes out now, so a full queue or a synchronous error is reported to the caller with
        // nothing posted, exactly as for a write that is not split.
        int rc = inner.postWrite(peer, src, srcAddress, pieceBytes, remoteAddress, remoteKey, false, 0,
                pieceContext(writes.byIndex(index)));
        if (rc != POSTED) {
            return rc; // RETRY or RETRY_PEER
        }
        PiecedWrite w = writes.start(peer, src, srcAddress, length, remoteAddress, remoteKey, withImm, imm, context,
                (length - 1) / pieceBytes + 1);
        w.nextPiece = 1;
        w.outstanding = 1;
        return POSTED;
    }

    @Override
    public int poll(CompletionSink sink, int maxEntries) {
        if (writes.activeCount() == 0) {
            return inner.poll(sink, maxEntries);
        }
        interceptor.target = sink;
        int work = inner.poll(interceptor, maxEntries);
        boolean waiting = postPieces();
        abandonExpired();
        work += writes.finish(sink);
        // Pieces that could be posted but were not (budget) are work in progress: keep the worker polling.
        return waiting ? Math.max(work, 1) : work;
    }

    @Override
    public void close() {
        inner.close();
    }

    @Override
    public String toString() {
        return "Splitting(" + inner + ")";
    }

    // ---------------------------------------------------------------- pieces

    /**
     * Posts pieces of the writes in flight, oldest write first, until the budget is spent or the provider's
     * queue is full; a write whose peer answers RETRY_PEER waits while the others go on. Returns true when pieces
     * that could go out now were left for the next poll because of the budget (a full queue frees up only through
     * completions, which count as work anyway).
     */
    private boolean postPieces() {
        int budget = PIECES_PER_POLL;
        for (int k = 0; k < writes.activeCount(); k++) {
            PiecedWrite w = writes.active(k);
            while (w.error == null && w.nextPiece < w.pieces) {
                boolean last = w.nextPiece == w.pieces - 1;
                boolean imm = last && w.withImm;
                if (imm && w.completed < w.pieces - 1) {
                    break; // the imm goes out only once every other piece has landed
                }
                if (budget == 0) {
                    return true;
                }
                long offset = w.nextPiece * pieceBytes;
                long length = last ? w.length - offset : pieceBytes;
                int rc;
                try {
                    rc = inner.postWrite(w.peer, w.src, w.srcAddress + offset, length, w.remoteAddress + offset,
                            w.remoteKey, imm, imm ? w.imm : 0, pieceContext(w));
                } catch (TransferException e) {
                    w.fail(e);
                    break;
                } catch (RuntimeException e) {
                    w.fail(new TransferException(ErrorCategory.PROVIDER, "posting a piece of a split write failed: "
                            + e, e));
                    break;
                }
                if (rc == RETRY_PEER) {
                    break; // this peer takes nothing now: go on with the writes to other peers
                }
                if (rc != POSTED) {
                    return false; // the NIC's queue is full until its completions are read
                }
                w.nextPiece++;
                w.outstanding++;
                budget--;
            }
        }
        return false;
    }

    /** A piece's context: the flag, the write's generation (bits 24..47) and its pool index (bits 0..23). */
    private static long pieceContext(PiecedWrite w) {
        return SPLIT_FLAG | (w.generation & GENERATION_MASK) << INDEX_BITS | w.index;
    }

    /** The write a piece context names, or null when that use of the write is over (abandoned, freed). */
    private PiecedWrite writeOf(long context) {
        PiecedWrite w = writes.byIndex((int) (context & INDEX_MASK));
        boolean current = (w.generation & GENERATION_MASK) == (context >>> INDEX_BITS & GENERATION_MASK);
        return current && !w.abandoned ? w : null;
    }

    /**
     * Gives up the oldest split writes whose pieces have been outstanding for longer than the transfer timeout:
     * a peer that went silent (a killed process, a cut link) never answers them, and without this they would
     * hold the table until every split write on this NIC answered RETRY. The engine failed their transfers with
     * TIMEOUT already; their late piece reports are ignored by generation. Writes start in order, so only the
     * oldest need looking at.
     */
    private void abandonExpired() {
        if (abandonNanos == Long.MAX_VALUE) {
            return;
        }
        long now = System.nanoTime();
        for (int k = 0; k < writes.activeCount(); k++) {
            PiecedWrite w = writes.active(k);
            if (now - w.startNanos - abandonNanos < 0) {
                return;
            }
            if (!w.abandoned) {
                w.abandon(new TransferTimeoutException("a split write's pieces were not all reported within "
                        + abandonNanos / 1_000_000 + " ms (" + w.completed + " of " + w.pieces + " completed, "
                        + w.outstanding + " outstanding): given up"));
            }
        }
    }

    /** Routes completions of pieces to their writes and everything else to the worker. */
    private final class Interceptor extends ForwardingDomain.Interceptor {
        Interceptor() {
            super(SPLIT_FLAG);
        }

        @Override
        void ownComplete(long context) {
            PiecedWrite w = writeOf(context);
            if (w == null) {
                return; // a piece of a write given up earlier
            }
            w.outstanding--;
            w.completed++;
        }

        @Override
        void ownError(long context, TransferException error) {
            PiecedWrite w = writeOf(context);
            if (w == null) {
                return;
            }
            w.outstanding--;
            w.fail(error);
        }
    }
}
