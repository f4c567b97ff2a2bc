package dev.transferengine.kits.kv;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.TransferCallback;
import dev.transferengine.api.TransferException;

import java.util.BitSet;
import java.util.List;

/**
 * One prefill request as one prefiller rank sees it. The application's compute loop calls
 * {@link #layerDone(int, int)} when a chunk's layer is in this rank's cache (a GPU would signal it; here the call
 * stands in for that signal) and, after the last chunk, {@link #contextReady}. Each call submits that layer's
 * writes at once (a {@link dev.transferengine.api.PagedWrite} per decoder rank sharing heads with this rank,
 * {@link KvSchedule}); nothing else announces completion: the decoder counts the imms.
 *
 * <p>After a cancel from the decoder, or after one of its writes failed, the job writes nothing more (the calls
 * return false) and, once every write it submitted has completed, tells the decoder how many imms its writes
 * carried to each decoder rank. Thread-safe.
 */
public final class KvPrefillJob {
    private final KvPrefiller owner;
    private final KvMessage.Request request;
    private final int[] sourcePages;
    private final int chunkPages;
    private final int chunkCount;
    private final int layers;
    private final boolean owesContext;

    private final BitSet layersDone = new BitSet();
    private final long[] immsCompleted;
    private boolean contextDone;
    private int inFlight;
    /** No write is submitted any more (cancel requested, or a write failed). */
    private boolean stopped;
    private boolean cancelRequested;
    private boolean confirmed;
    private boolean failureReported;
    private boolean finished;

    KvPrefillJob(KvPrefiller owner, KvMessage.Request request, int[] sourcePages, int chunkTokens) {
        this.owner = owner;
        this.request = request;
        this.sourcePages = sourcePages.clone();
        this.layers = request.layout().layers();
        this.chunkPages = chunkTokens / request.layout().pageTokens();
        this.chunkCount = (sourcePages.length + chunkPages - 1) / chunkPages;
        int decodeTp = request.targets().size();
        this.immsCompleted = new long[decodeTp];
        this.owesContext = request.contextBytes() > 0 && owner.cache().rank() < decodeTp;
    }

    public long requestId() {
        return request.requestId();
    }

    /** The prompt length in tokens. */
    public long tokens() {
        return request.tokens();
    }

    /** Pages of the prompt (in this rank's cache: {@link #sourcePages()}). */
    public int pageCount() {
        return sourcePages.length;
    }

    /** This rank's cache pages holding the prompt, in token order. */
    public int[] sourcePages() {
        return sourcePages.clone();
    }

    /** Chunks of the chunked prefill; chunk {@code c} covers the pages {@code [c * chunkPages, ...)}. */
    public int chunkCount() {
        return chunkCount;
    }

    /** Bytes of the context buffer the decoder asked for (0: none). */
    public long contextBytes() {
        return request.contextBytes();
    }

    /** Whether this rank writes any decoder rank's context ({@link #contextReady}). */
    public boolean owesContext() {
        return owesContext;
    }

    /** Whether the decoder cancelled, or a write failed: further calls write nothing. */
    public synchronized boolean isStopped() {
        return stopped;
    }

    /**
     * Layer {@code layer} of chunk {@code chunk} is in the cache: submits its writes.
     *
     * @return false when the job is stopped (nothing was written)
     * @throws InvalidRequestException for a chunk or layer out of range, or one already done
     */
    public boolean layerDone(int chunk, int layer) {
        if (chunk < 0 || chunk >= chunkCount || layer < 0 || layer >= layers) {
            throw new InvalidRequestException("chunk " + chunk + " / layer " + layer + " outside " + chunkCount
                    + " chunks x " + layers + " layers");
        }
        int from = chunk * chunkPages;
        int to = Math.min(from + chunkPages, sourcePages.length);
        List<KvSchedule.Addressed> writes;
        synchronized (this) {
            int bit = chunk * layers + layer;
            if (layersDone.get(bit)) {
                throw new InvalidRequestException("chunk " + chunk + " layer " + layer + " was already done");
            }
            if (stopped) {
                return false;
            }
            layersDone.set(bit);
            writes = KvSchedule.layerWrites(owner.cache(), sourcePages, request, layer, from, to);
            inFlight += writes.size();
        }
        submitAll(writes);
        return true;
    }

    /**
     * The last chunk is done and the context (hidden states, logits) is at {@code src + srcOffset}: writes it to
     * every decoder rank this rank serves ({@link #owesContext()}), one single write each.
     *
     * @return false when the job is stopped or this rank owes no context (nothing was written)
     */
    public boolean contextReady(MemoryRegion src, long srcOffset) {
        List<KvSchedule.Addressed> writes;
        synchronized (this) {
            if (contextDone) {
                throw new InvalidRequestException("the context of request " + requestId() + " was already written");
            }
            if (stopped || !owesContext) {
                return false;
            }
            contextDone = true;
            writes = KvSchedule.contextWrites(owner.cache(), request, src, srcOffset);
            inFlight += writes.size();
        }
        submitAll(writes);
        return true;
    }

    private void submitAll(List<KvSchedule.Addressed> writes) {
        for (KvSchedule.Addressed w : writes) {
            try {
                owner.engine().submit(w.write(), TransferCallback.of(() -> completed(w), this::failed));
            } catch (TransferException e) {
                failed(e);
            }
        }
    }

    private void completed(KvSchedule.Addressed w) {
        synchronized (this) {
            inFlight--;
            immsCompleted[w.decoderRank()] += w.imms();
        }
        advance();
    }

    private void failed(TransferException e) {
        boolean report;
        synchronized (this) {
            inFlight--;
            stopped = true;
            report = !failureReported;
            failureReported = true;
        }
        if (report) {
            owner.reportFailure(request, e);
        }
        advance();
    }

    /** The decoder asked to cancel: stop, and confirm once every submitted write completed. */
    void cancel() {
        synchronized (this) {
            stopped = true;
            cancelRequested = true;
        }
        advance();
    }

    /** Confirms a cancel or finishes the job when nothing is in flight any more. */
    private void advance() {
        long[] confirm = null;
        boolean done = false;
        synchronized (this) {
            if (inFlight > 0 || finished) {
                return;
            }
            if (cancelRequested && !confirmed) {
                confirmed = true;
                confirm = immsCompleted.clone();
            }
            boolean allWritten = layersDone.cardinality() == chunkCount * layers && (contextDone || !owesContext);
            if (confirmed || (!stopped && allWritten)) {
                finished = true;
                done = true;
            }
        }
        if (confirm != null) {
            owner.confirmCancel(request, confirm);
        }
        if (done) {
            owner.finished(this, immsCompletedSnapshot());
        }
    }

    private synchronized long[] immsCompletedSnapshot() {
        return immsCompleted.clone();
    }
}
