package dev.transferengine.kits.kv;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * One prefiller tensor-parallel rank: receives the decoder's requests on its engine, hands each to the
 * application as a {@link KvPrefillJob}, answers heartbeats and confirms cancellations.
 *
 * <p>Decoder messages may arrive in any order (delivery is unordered): a cancel that overtakes its request leaves
 * a tombstone, so the request is dropped when it arrives; a cancel for a request that already finished is
 * answered with that request's imm counts. Both are kept for the last {@value #REMEMBERED} requests.
 *
 * <p>Listener calls run on the engine's callback thread: hand the job to your compute loop, do not block there
 * (the same thread runs the completions that let the job progress). Thread-safe. Does not own the engine or the
 * cache region.
 */
public final class KvPrefiller implements AutoCloseable {
    /** Finished or cancelled request ids remembered for late cancels. */
    static final int REMEMBERED = 4096;
    private static final System.Logger LOG = System.getLogger(KvPrefiller.class.getName());

    private final TransferEngine engine;
    private final KvCache cache;
    private final int chunkTokens;
    private final IntFunction<int[]> sourcePages;
    private final Consumer<KvPrefillJob> onJob;
    private final KvMessenger messenger;
    private final Map<Long, KvPrefillJob> active = new HashMap<>();
    /** Request id to the imms it delivered per decoder rank (empty array: cancelled before it arrived). */
    private final Map<Long, long[]> remembered = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, long[]> eldest) {
            return size() > REMEMBERED;
        }
    };

    /**
     * @param engine      this rank's engine; decoders send requests to its {@link #address()}
     * @param cache       this rank's KV cache (its region must be registered with {@code engine})
     * @param chunkTokens tokens per prefill chunk, a multiple of the page size
     * @param sourcePages the cache pages holding a prompt of {@code n} pages (called once per request)
     * @param onJob       gets each new job, on the callback thread
     */
    public KvPrefiller(TransferEngine engine, KvCache cache, int chunkTokens, IntFunction<int[]> sourcePages,
                       Consumer<KvPrefillJob> onJob) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.cache = Objects.requireNonNull(cache, "cache");
        if (chunkTokens < 1 || chunkTokens % cache.layout().pageTokens() != 0) {
            throw new InvalidRequestException("chunkTokens must be a positive multiple of " + cache.layout().pageTokens()
                    + ", got " + chunkTokens);
        }
        this.chunkTokens = chunkTokens;
        this.sourcePages = Objects.requireNonNull(sourcePages, "sourcePages");
        this.onJob = Objects.requireNonNull(onJob, "onJob");
        this.messenger = new KvMessenger(engine, this::onMessage);
    }

    /** Where decoders send requests: the engine's main address. */
    public DomainAddress address() {
        return messenger.address();
    }

    /** Jobs not yet finished or confirmed cancelled. */
    public synchronized int activeJobs() {
        return active.size();
    }

    TransferEngine engine() {
        return engine;
    }

    KvCache cache() {
        return cache;
    }

    private void onMessage(KvMessage m) {
        switch (m) {
            case KvMessage.Request r -> onRequest(r);
            case KvMessage.Cancel c -> onCancel(c);
            case KvMessage.Ping p -> messenger.send(p.from(), new KvMessage.Pong(address()));
            default -> LOG.log(System.Logger.Level.WARNING, "prefiller ignores " + m.getClass().getSimpleName());
        }
    }

    private void onRequest(KvMessage.Request r) {
        KvPrefillJob job;
        try {
            checkRequest(r);
            int[] pages = sourcePages.apply(r.pages().length);
            if (pages == null || pages.length != r.pages().length) {
                throw new InvalidRequestException("sourcePages gave " + (pages == null ? "null" : pages.length)
                        + " pages for " + r.pages().length);
            }
            cache.checkPages(pages, "source");
            job = new KvPrefillJob(this, r, pages, chunkTokens);
        } catch (TransferException e) {
            messenger.send(r.from(), new KvMessage.Failed(r.requestId(), address(), e.getMessage()));
            return;
        }
        synchronized (this) {
            if (remembered.containsKey(r.requestId()) || active.containsKey(r.requestId())) {
                return;
            }
            active.put(r.requestId(), job);
        }
        onJob.accept(job);
    }

    private void checkRequest(KvMessage.Request r) {
        if (!r.layout().equals(cache.layout())) {
            throw new InvalidRequestException("request layout " + r.layout() + " is not this cache's " + cache.layout());
        }
        r.layout().headsOf(0, r.targets().size());
        if (r.pages().length != r.layout().pagesFor(r.tokens())) {
            throw new InvalidRequestException(r.tokens() + " tokens need " + r.layout().pagesFor(r.tokens())
                    + " pages, the request names " + r.pages().length);
        }
    }

    private void onCancel(KvMessage.Cancel c) {
        KvPrefillJob job;
        long[] counts;
        synchronized (this) {
            job = active.get(c.requestId());
            counts = remembered.get(c.requestId());
            if (job == null && counts == null) {
                counts = new long[0];
                remembered.put(c.requestId(), counts);
            }
        }
        if (job != null) {
            job.cancel();
        } else {
            messenger.send(c.from(), new KvMessage.Cancelled(c.requestId(), address(), counts));
        }
    }

    void confirmCancel(KvMessage.Request r, long[] imms) {
        messenger.send(r.from(), new KvMessage.Cancelled(r.requestId(), address(), imms));
    }

    void reportFailure(KvMessage.Request r, TransferException e) {
        messenger.send(r.from(), new KvMessage.Failed(r.requestId(), address(), e.getMessage()));
    }

    synchronized void finished(KvPrefillJob job, long[] imms) {
        active.remove(job.requestId());
        remembered.put(job.requestId(), imms);
    }

    /**
     * Stops receiving requests, heartbeats and cancels (decoders then see this rank as lost). Jobs already handed
     * out keep working; close their engine to stop their writes.
     */
    @Override
    public void close() {
        messenger.close();
    }
}
