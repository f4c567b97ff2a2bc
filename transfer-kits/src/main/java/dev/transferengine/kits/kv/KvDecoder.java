package dev.transferengine.kits.kv;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.TransferEngine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The decode side of a KV hand-off: its tensor-parallel ranks (one engine and one {@link KvCache} each), and the
 * requests it sends to prefillers.
 *
 * <p>{@link #requestPrefill} registers on every rank the imm count the hand-off produces ({@link KvSchedule}),
 * then SENDs the request (page indices, each rank's descriptors) from rank 0's engine to every prefiller rank.
 * A heartbeat thread pings the prefiller ranks of transfers in progress every
 * {@linkplain Options#heartbeatInterval interval}; a rank silent for the {@linkplain Options#heartbeatTimeout
 * timeout} makes its transfers {@link KvTransfer.State#LOST}. Caches and contexts may be GPU memory; where the
 * provider stages it ({@link MemoryRegion#isStaged()}) the requested pages are flushed to the GPU before the
 * transfer completes. Thread-safe; does not own the engines or regions.
 */
public final class KvDecoder implements AutoCloseable {
    /**
     * @param heartbeatInterval how often prefiller ranks are pinged
     * @param heartbeatTimeout  how long a prefiller rank may stay silent before its transfers are lost
     * @param immBase           imm values are {@code immBase + (request sequence mod 65536)}; its low 16 bits must
     *                          be 0, and no other user of the decoder's engines may count imms in that range
     */
    public record Options(Duration heartbeatInterval, Duration heartbeatTimeout, int immBase) {
        public Options {
            if (heartbeatInterval == null || heartbeatInterval.isNegative() || heartbeatInterval.isZero()
                    || heartbeatTimeout == null || heartbeatTimeout.compareTo(heartbeatInterval) <= 0) {
                throw new InvalidRequestException("need 0 < heartbeatInterval < heartbeatTimeout, got "
                        + heartbeatInterval + " and " + heartbeatTimeout);
            }
            if ((immBase & 0xFFFF) != 0) {
                throw new InvalidRequestException("immBase's low 16 bits must be 0, got 0x" + Integer.toHexString(immBase));
            }
        }

        /** A 100 ms heartbeat, 3 s timeout, imms {@code 0x4B560000..0x4B56FFFF}. */
        public static Options defaults() {
            return new Options(Duration.ofMillis(100), Duration.ofSeconds(3), 0x4B56_0000);
        }
    }

    /**
     * One decoder rank.
     *
     * @param context where this rank's context buffer lives (registered for remote writes), or null
     */
    public record Rank(TransferEngine engine, KvCache cache, MemoryRegion context) {
        public Rank {
            Objects.requireNonNull(engine, "engine");
            Objects.requireNonNull(cache, "cache");
        }
    }

    private static final System.Logger LOG = System.getLogger(KvDecoder.class.getName());

    private final List<Rank> ranks;
    private final KvLayout layout;
    private final Options options;
    private final KvMessenger messenger;
    private final Map<Long, KvTransfer> active = new ConcurrentHashMap<>();
    private final Map<DomainAddress, Long> lastSeen = new ConcurrentHashMap<>();
    private final Set<DomainAddress> pinging = ConcurrentHashMap.newKeySet();
    private final AtomicLong nextRequestId = new AtomicLong(ThreadLocalRandom.current().nextLong() >>> 1);
    private final AtomicInteger nextImm = new AtomicInteger();
    private final ScheduledExecutorService heartbeat;
    private volatile boolean closed;

    /**
     * @param ranks the decoder's tensor-parallel ranks in rank order ({@code ranks.get(i).cache().rank() == i})
     * @throws InvalidRequestException when the caches disagree on layout or tensor-parallel size
     */
    public KvDecoder(List<Rank> ranks, Options options) {
        this.ranks = List.copyOf(ranks);
        this.options = Objects.requireNonNull(options, "options");
        if (this.ranks.isEmpty()) {
            throw new InvalidRequestException("a decoder needs at least one rank");
        }
        this.layout = this.ranks.getFirst().cache().layout();
        for (int i = 0; i < this.ranks.size(); i++) {
            KvCache c = this.ranks.get(i).cache();
            if (!c.layout().equals(layout) || c.rank() != i || c.tpSize() != this.ranks.size()) {
                throw new InvalidRequestException("decoder rank " + i + "'s cache is rank " + c.rank() + " of "
                        + c.tpSize() + " with layout " + c.layout() + "; expected rank " + i + " of "
                        + this.ranks.size() + " with " + layout);
            }
        }
        this.messenger = new KvMessenger(this.ranks.getFirst().engine(), this::onMessage);
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kv-decoder-heartbeat");
            t.setDaemon(true);
            return t;
        });
        long every = options.heartbeatInterval().toNanos();
        heartbeat.scheduleAtFixedRate(this::beat, every, every, TimeUnit.NANOSECONDS);
    }

    /** Rank 0's main address: where prefillers answer. */
    public DomainAddress address() {
        return messenger.address();
    }

    /** Transfers not yet settled. */
    public int activeTransfers() {
        return active.size();
    }

    /**
     * Asks the prefiller ranks {@code prefillers} (in their rank order) to prefill {@code tokens} tokens into
     * {@code pages} of every decoder rank's cache and, with {@code contextBytes > 0}, to write the context into each
     * rank's context region at {@code contextOffset}.
     *
     * @throws InvalidRequestException for pages outside the caches or repeated, a page count that does not match
     *                                 the tokens, a prefiller count that does not divide the heads, a context that
     *                                 does not fit, or a request too large for one message
     * @throws ClosedException         after {@link #close()}
     */
    public KvTransfer requestPrefill(List<DomainAddress> prefillers, long tokens, int[] pages, long contextOffset,
                                     long contextBytes) {
        if (closed) {
            throw new ClosedException("the KV decoder is closed");
        }
        List<DomainAddress> targets = List.copyOf(prefillers);
        checkRequest(targets, tokens, pages, contextOffset, contextBytes);
        List<KvMessage.DecoderTarget> dsts = new ArrayList<>(ranks.size());
        long[] expected = new long[ranks.size()];
        for (int d = 0; d < ranks.size(); d++) {
            Rank r = ranks.get(d);
            dsts.add(new KvMessage.DecoderTarget(r.cache().region().descriptor(), r.cache().capacityPages(),
                    contextBytes > 0 ? r.context().descriptor() : null, contextOffset));
            expected[d] = KvSchedule.expectedImms(layout, targets.size(), ranks.size(), d, pages.length,
                    contextBytes > 0);
        }
        long id = nextRequestId.getAndIncrement();
        int imm = options.immBase() + (nextImm.getAndIncrement() & 0xFFFF);
        KvMessage.Request request = new KvMessage.Request(id, address(), imm, tokens, layout, dsts, contextBytes, pages);
        int size = KvWire.encode(request).length;
        if (size > KvMessenger.MAX_MESSAGE_BYTES) {
            throw new InvalidRequestException("a request of " + pages.length + " pages encodes to " + size
                    + " bytes, over the " + KvMessenger.MAX_MESSAGE_BYTES + "-byte message limit");
        }
        KvTransfer transfer = new KvTransfer(this, id, imm, targets, ranks.stream().map(Rank::engine).toList(),
                expected, feeds(targets.size()), rank -> flushStaged(rank, pages.clone(), contextOffset, contextBytes));
        transfer.expect();
        active.put(id, transfer);
        for (DomainAddress p : targets) {
            messenger.send(p, request);
        }
        return transfer;
    }

    private void checkRequest(List<DomainAddress> prefillers, long tokens, int[] pages, long contextOffset,
                              long contextBytes) {
        if (prefillers.isEmpty() || new HashSet<>(prefillers).size() != prefillers.size()) {
            throw new InvalidRequestException("need distinct prefiller rank addresses, got " + prefillers);
        }
        layout.headsOf(0, prefillers.size());
        if (pages.length != layout.pagesFor(tokens)) {
            throw new InvalidRequestException(tokens + " tokens need " + layout.pagesFor(tokens) + " pages, got "
                    + pages.length);
        }
        if (Arrays.stream(pages).distinct().count() != pages.length) {
            throw new InvalidRequestException("page indices must be distinct");
        }
        if (contextBytes < 0 || contextOffset < 0) {
            throw new InvalidRequestException("context offset and length must be >= 0");
        }
        for (int d = 0; d < ranks.size(); d++) {
            Rank r = ranks.get(d);
            r.cache().checkPages(pages, "decoder rank " + d);
            if (contextBytes > 0 && (r.context() == null
                    || contextOffset > r.context().lengthBytes() - contextBytes)) {
                throw new InvalidRequestException("a context of " + contextBytes + " bytes at " + contextOffset
                        + " does not fit decoder rank " + d + "'s context region");
            }
        }
    }

    /**
     * Makes what landed in decoder rank {@code rank} visible in its memory: for GPU memory the provider could not
     * register ({@link MemoryRegion#isStaged()}), peers wrote into a host shadow and each requested page of each
     * layer (and the context) is copied to the GPU; a no-op for host memory and directly registered GPU memory.
     * Runs on that rank's callback thread.
     */
    private void flushStaged(int rank, int[] pages, long contextOffset, long contextBytes) {
        Rank r = ranks.get(rank);
        MemoryRegion kv = r.cache().region();
        if (kv.isStaged()) {
            long pageBytes = r.cache().pageBytes();
            for (int layer = 0; layer < layout.layers(); layer++) {
                for (int page : pages) {
                    kv.flush(r.cache().layerOffset(layer) + page * pageBytes, pageBytes, options.heartbeatTimeout());
                }
            }
        }
        if (contextBytes > 0 && r.context().isStaged()) {
            r.context().flush(contextOffset, contextBytes, options.heartbeatTimeout());
        }
    }

        /** {@code feeds[p][d]}: prefiller rank p shares heads with decoder rank d, so it writes there. */
    private boolean[][] feeds(int prefillTp) {
        boolean[][] feeds = new boolean[prefillTp][ranks.size()];
        for (int p = 0; p < prefillTp; p++) {
            for (int d = 0; d < ranks.size(); d++) {
                feeds[p][d] = layout.headsOf(p, prefillTp).intersect(layout.headsOf(d, ranks.size())).count() > 0;
            }
        }
        return feeds;
    }

    void sendCancel(KvTransfer t) {
        for (DomainAddress p : t.prefillers()) {
            messenger.send(p, new KvMessage.Cancel(t.requestId(), address()));
        }
    }

    void forget(KvTransfer t) {
        active.remove(t.requestId());
    }

    private void onMessage(KvMessage m) {
        lastSeen.put(m.from(), System.nanoTime());
        switch (m) {
            case KvMessage.Cancelled c -> {
                KvTransfer t = active.get(c.requestId());
                if (t != null) {
                    t.confirmed(c.from(), c.immsPerDecoderRank());
                }
            }
            case KvMessage.Failed f -> {
                KvTransfer t = active.get(f.requestId());
                if (t != null) {
                    t.stop(KvTransfer.State.FAILED, f.reason());
                }
            }
            case KvMessage.Pong p -> {
            }
            default -> LOG.log(System.Logger.Level.WARNING, "decoder ignores " + m.getClass().getSimpleName());
        }
    }

    private void beat() {
        try {
            Set<DomainAddress> peers = new HashSet<>();
            for (KvTransfer t : active.values()) {
                peers.addAll(t.prefillers());
            }
            for (DomainAddress p : peers) {
                // One ping in flight per peer: pings to a dead peer would otherwise take every send slot.
                if (pinging.add(p)) {
                    messenger.send(p, new KvMessage.Ping(address()), () -> pinging.remove(p));
                }
            }
            long now = System.nanoTime();
            for (KvTransfer t : active.values()) {
                t.tick(now, lastSeen::get, options.heartbeatTimeout().toNanos());
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "KV heartbeat failed", e);
        }
    }

    /**
     * Stops the heartbeat and fails the transfers still running ({@link ErrorCategory#CLOSED}; their counters are
     * removed, but prefillers may still write into their pages). Idempotent.
     */
    @Override
    public void close() {
        closed = true;
        heartbeat.shutdownNow();
        for (KvTransfer t : List.copyOf(active.values())) {
            t.finish(KvTransfer.State.FAILED, ErrorCategory.CLOSED, "decoder closed");
        }
        messenger.close();
    }
}
