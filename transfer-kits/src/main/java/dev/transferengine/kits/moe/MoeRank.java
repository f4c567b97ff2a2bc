package dev.transferengine.kits.moe;

import dev.transferengine.api.Access;
import dev.transferengine.api.Barrier;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.Routing;
import dev.transferengine.api.Scatter;
import dev.transferengine.api.ScatterRouting;
import dev.transferengine.api.ScatterTarget;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferTimeoutException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * One rank's host proxy for an MoE layer's dispatch and combine (the design the reference runs on EFA). Each round:
 * <ol>
 *   <li><b>dispatch</b>: pack this rank's tokens by destination rank and expert; scatter the per-expert counts to
 *       every peer (route imm) and, speculatively, the first {@code privateTokens} tokens for each peer into this
 *       source's private slot there (dispatch imm, one write per peer); wait for every peer's counts; write the rest
 *       into a contiguous range of each peer's overflow area whose offset the counts fix (dispatch imm, one
 *       byte-sharded write per peer that has overflow); wait for the dispatch imm count the counts imply;</li>
 *   <li>the experts run on the {@link ExpertBatch} and overwrite each token with their output;</li>
 *   <li><b>combine</b>: pack the outputs by source and return each source's block with one byte-sharded write
 *       (combine imm); wait for {@code (ranks - 1) x senderNics} combine imms; then a barrier (one imm-only write
 *       to every peer, barrier imm) closes the round.</li>
 * </ol>
 * Tokens for this rank itself are copied locally (the reference uses NVLink within a node). Every wait has a
 * deadline; a timeout names the phase and leaves the rank unusable (its counts no longer line up): close it.
 *
 * <p>One registered buffer per rank ({@link MoeLayout}); the four imm counters are created in the constructor, so
 * no imm can arrive uncounted. Not thread-safe: one proxy thread drives a rank.
 */
public final class MoeRank implements AutoCloseable {
    private final TransferEngine engine;
    private final MoeConfig config;
    private final int rank;
    private final MoeLayout layout;
    private final Arena arena;
    private final MemoryRegion region;
    private final MemorySegment buffer;
    private final ImmCounter routeImms;
    private final ImmCounter dispatchImms;
    private final ImmCounter combineImms;
    private final ImmCounter barrierImms;
    private List<RemoteRegion> peers;

    private boolean failed;
    private boolean dispatched;
    private boolean combined;
    private int numTokens;
    private int[] positions;
    private RouteMatrix matrix;
    private TransferCounter sent;
    private int submitted;
    private long dispatchNanos;
    private long routeWaitNanos;
    private RoundTimes lastTimes;

    /** Registers this rank's buffer on {@code engine} and creates its imm counters. */
    public MoeRank(TransferEngine engine, MoeConfig config, int rank) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.config = Objects.requireNonNull(config, "config");
        if (rank < 0 || rank >= config.ranks()) {
            throw new InvalidRequestException("rank " + rank + " out of range 0.." + (config.ranks() - 1));
        }
        this.rank = rank;
        this.layout = new MoeLayout(config);
        this.arena = Arena.ofShared();
        this.buffer = arena.allocate(layout.totalBytes, 4096);
        MemoryRegion registered = null;
        try {
            registered = engine.register(buffer, Access.REMOTE_WRITE);
            this.routeImms = engine.immCounter(config.imm(MoeConfig.ROUTE));
            this.dispatchImms = engine.immCounter(config.imm(MoeConfig.DISPATCH));
            this.combineImms = engine.immCounter(config.imm(MoeConfig.COMBINE));
            this.barrierImms = engine.immCounter(config.imm(MoeConfig.BARRIER));
        } catch (RuntimeException e) {
            if (registered != null) {
                registered.close();
            }
            arena.close();
            throw e;
        }
        this.region = registered;
    }

    /** This rank's buffer descriptor: every other rank needs it ({@link #connect}). */
    public RemoteRegion descriptor() {
        return region.descriptor();
    }

    /** Bytes of the buffer each rank registers. */
    public long bufferBytes() {
        return layout.totalBytes;
    }

    /**
     * Takes every rank's descriptor, by rank (this rank's own entry is not used).
     *
     * @throws InvalidRequestException for the wrong count or a region smaller than the layout
     */
    public void connect(List<RemoteRegion> descriptors) {
        if (descriptors == null || descriptors.size() != config.ranks()) {
            throw new InvalidRequestException("need " + config.ranks() + " descriptors, got "
                    + (descriptors == null ? "null" : descriptors.size()));
        }
        for (int d = 0; d < descriptors.size(); d++) {
            RemoteRegion r = descriptors.get(d);
            if (r == null || r.lengthBytes() < layout.totalBytes) {
                throw new InvalidRequestException("rank " + d + "'s region must hold " + layout.totalBytes + " bytes, got "
                        + (r == null ? "null" : r.lengthBytes()));
            }
        }
        this.peers = List.copyOf(descriptors);
    }

    /**
     * Dispatches {@code numTokens} tokens (row {@code t} of {@code tokens}, {@code tokenBytes} each) to the experts
     * {@code expertIds[t * topK + j]}, {@code j < topK}, and returns what this rank's experts received.
     *
     * @throws InvalidRequestException  before anything is sent: not connected, a dispatch not followed by a combine,
     *                                  too many tokens, an expert id out of range, a short token segment
     * @throws TransferTimeoutException when the peers' counts or tokens do not all arrive in time
     */
    public ExpertBatch dispatch(MemorySegment tokens, int numTokens, int[] expertIds, Duration timeout) {
        checkUsable();
        if (dispatched) {
            throw new InvalidRequestException("dispatch called twice without combine");
        }
        int k = config.topK();
        long h = config.tokenBytes();
        if (numTokens < 0 || numTokens > config.maxTokens() || expertIds == null
                || expertIds.length != numTokens * k || tokens == null || tokens.byteSize() < numTokens * h) {
            throw new InvalidRequestException("dispatch needs 0.." + config.maxTokens() + " tokens of " + h
                    + " bytes and topK=" + k + " expert ids per token");
        }
        int[] myCounts = new int[config.experts()];
        for (int id : expertIds) {
            if (id < 0 || id >= config.experts()) {
                throw new InvalidRequestException("expert id " + id + " out of range 0.." + (config.experts() - 1));
            }
            myCounts[id]++;
        }
        for (int t = 0; t < numTokens; t++) {
            for (int j = 1; j < k; j++) {
                for (int i = 0; i < j; i++) {
                    if (expertIds[t * k + i] == expertIds[t * k + j]) {
                        throw new InvalidRequestException("token " + t + " names expert " + expertIds[t * k + j]
                                + " twice");
                    }
                }
            }
        }
        long start = System.nanoTime();
        sent = new TransferCounter();
        submitted = 0;
        this.numTokens = numTokens;
        try {
            positions = pack(tokens, numTokens, expertIds, myCounts);
            for (int e = 0; e < config.experts(); e++) {
                buffer.set(ValueLayout.JAVA_INT_UNALIGNED, layout.routeSend + 4L * e, myCounts[e]);
                buffer.set(ValueLayout.JAVA_INT_UNALIGNED, layout.route + 4L * ((long) rank * config.experts() + e),
                        myCounts[e]);
            }
            sendRouteAndPrivate(myCounts);
            long waitStart = System.nanoTime();
            await(routeImms, config.ranks() - 1, timeout, "route");
            routeWaitNanos = System.nanoTime() - waitStart;
            matrix = readRoutes();
            sendOverflow();
            copyOwnTokens();
            long expected = config.ranks() - 1;
            for (int s = 0; s < config.ranks(); s++) {
                if (s != rank && matrix.overflowTokens(s, rank) > 0) {
                    expected += config.senderNics();
                }
            }
            await(dispatchImms, expected, timeout, "dispatch");
        } catch (RuntimeException e) {
            failed = true;
            throw e;
        }
        dispatched = true;
        combined = false;
        dispatchNanos = System.nanoTime() - start;
        return receivedBatch();
    }

    /**
     * Returns every expert output (written in place into the {@link ExpertBatch}) to its source, waits for this
     * rank's own outputs, then runs the closing barrier. Afterwards {@link #output} gives the outputs.
     *
     * @throws InvalidRequestException  without a dispatch before
     * @throws TransferTimeoutException when outputs or barrier imms do not all arrive in time
     * @throws TransferException        the first failed write of the round
     */
    public void combine(Duration timeout) {
        checkUsable();
        if (!dispatched) {
            throw new InvalidRequestException("combine without a dispatch");
        }
        long start = System.nanoTime();
        long barrierNanos;
        try {
            sendOutputs();
            await(combineImms, (long) (config.ranks() - 1) * config.senderNics(), timeout, "combine");
            long combineDone = System.nanoTime();
            sent.await(submitted, timeout);
            sent.throwIfFailed();
            if (config.ranks() > 1) {
                List<RemoteRegion> others = new ArrayList<>();
                for (int d = 0; d < config.ranks(); d++) {
                    if (d != rank) {
                        others.add(peers.get(d));
                    }
                }
                engine.submit(new Barrier(others, config.imm(MoeConfig.BARRIER), Routing.pinned(0)), sent);
                submitted++;
                await(barrierImms, config.ranks() - 1, timeout, "barrier");
                sent.await(1, timeout);
                sent.throwIfFailed();
            }
            barrierNanos = System.nanoTime() - combineDone;
            lastTimes = new RoundTimes(dispatchNanos, routeWaitNanos, combineDone - start, barrierNanos, submitted);
        } catch (RuntimeException e) {
            failed = true;
            throw e;
        }
        dispatched = false;
        combined = true;
    }

    /** After {@link #combine}: the output of the expert that token {@code token}'s {@code j}-th choice went to. */
    public MemorySegment output(int token, int j) {
        if (!combined || token < 0 || token >= numTokens || j < 0 || j >= config.topK()) {
            throw new InvalidRequestException("no output for token " + token + " choice " + j
                    + (combined ? "" : " (combine has not run)"));
        }
        return buffer.asSlice(layout.combine + (long) positions[token * config.topK() + j] * config.tokenBytes(),
                config.tokenBytes());
    }

    /** The phase times of the last completed round, or null. */
    public RoundTimes lastTimes() {
        return lastTimes;
    }

    /** Deregisters the buffer and removes the four imm counters. */
    @Override
    public void close() {
        for (int phase = MoeConfig.ROUTE; phase <= MoeConfig.BARRIER; phase++) {
            engine.removeImmCounter(config.imm(phase));
        }
        region.close();
        arena.close();
    }

    private void checkUsable() {
        if (peers == null) {
            throw new InvalidRequestException("connect the rank to its peers first");
        }
        if (failed) {
            throw new InvalidRequestException("rank " + rank + " failed in an earlier round; close it");
        }
    }

    /** Copies each token once per expert choice into the send area, grouped by expert (so by rank); returns positions. */
    private int[] pack(MemorySegment tokens, int n, int[] expertIds, int[] myCounts) {
        int k = config.topK();
        long h = config.tokenBytes();
        int[] cursor = new int[config.experts()];
        for (int e = 1; e < cursor.length; e++) {
            cursor[e] = cursor[e - 1] + myCounts[e - 1];
        }
        int[] pos = new int[n * k];
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < k; j++) {
                int p = cursor[expertIds[t * k + j]]++;
                pos[t * k + j] = p;
                MemorySegment.copy(tokens, t * h, buffer, layout.send + p * h, h);
            }
        }
        return pos;
    }

    private int tokensTo(int[] myCounts, int d) {
        int n = 0;
        int epr = config.expertsPerRank();
        for (int e = d * epr; e < (d + 1) * epr; e++) {
            n += myCounts[e];
        }
        return n;
    }

    /** One route write and one (possibly empty) private-slot write per peer: exactly one imm of each per peer. */
    private void sendRouteAndPrivate(int[] myCounts) {
        if (config.ranks() == 1) {
            return;
        }
        long h = config.tokenBytes();
        List<ScatterTarget> route = new ArrayList<>();
        List<ScatterTarget> priv = new ArrayList<>();
        long sendAt = 0;
        for (int d = 0; d < config.ranks(); d++) {
            int n = tokensTo(myCounts, d);
            if (d != rank) {
                RemoteRegion p = peers.get(d);
                route.add(new ScatterTarget(p, 4L * config.experts(), layout.routeSend,
                        layout.route + 4L * rank * config.experts()));
                long first = Math.min(n, config.privateTokens());
                priv.add(new ScatterTarget(p, first * h, layout.send + sendAt * h,
                        layout.privateArea + (long) rank * config.privateTokens() * h));
            }
            sendAt += n;
        }
        submit(new Scatter(region, route, OptionalInt.of(config.imm(MoeConfig.ROUTE)), ScatterRouting.SHARD_PEERS));
        submit(new Scatter(region, priv, OptionalInt.of(config.imm(MoeConfig.DISPATCH)), ScatterRouting.SHARD_PEERS));
    }

    private RouteMatrix readRoutes() {
        int[][] counts = new int[config.ranks()][config.experts()];
        for (int s = 0; s < config.ranks(); s++) {
            for (int e = 0; e < config.experts(); e++) {
                int c = buffer.get(ValueLayout.JAVA_INT_UNALIGNED, layout.route + 4L * ((long) s * config.experts() + e));
                if (c < 0 || c > config.maxTokens()) {
                    throw new TransferException(dev.transferengine.api.ErrorCategory.INTERNAL, "rank " + s
                            + " reported " + c + " tokens for expert " + e + " (max " + config.maxTokens() + ")");
                }
                counts[s][e] = c;
            }
        }
        return new RouteMatrix(config, counts);
    }

    /** The tokens past each peer's private slot: one byte-sharded write per peer that has any. */
    private void sendOverflow() {
        long h = config.tokenBytes();
        List<ScatterTarget> targets = new ArrayList<>();
        for (int d = 0; d < config.ranks(); d++) {
            int over = matrix.overflowTokens(rank, d);
            if (d != rank && over > 0) {
                targets.add(new ScatterTarget(peers.get(d), over * h,
                        layout.send + (matrix.sendOffset(rank, d) + config.privateTokens()) * h,
                        layout.overflow + matrix.overflowOffset(rank, d) * h));
            }
        }
        if (!targets.isEmpty()) {
            submit(new Scatter(region, targets, OptionalInt.of(config.imm(MoeConfig.DISPATCH)),
                    ScatterRouting.SHARD_BYTES));
        }
    }

    /** This rank's tokens for its own experts go where a peer's write would have put them. */
    private void copyOwnTokens() {
        long h = config.tokenBytes();
        int n = matrix.tokens(rank, rank);
        long from = layout.send + matrix.sendOffset(rank, rank) * h;
        int first = Math.min(n, config.privateTokens());
        MemorySegment.copy(buffer, from, buffer, privateSlot(rank), first * h);
        MemorySegment.copy(buffer, from + first * h, buffer, overflowStart(rank), (long) (n - first) * h);
    }

    /** Each source's block of outputs, packed, back to its combine area in one byte-sharded write. */
    private void sendOutputs() {
        long h = config.tokenBytes();
        List<ScatterTarget> targets = new ArrayList<>();
        long packAt = 0;
        for (int s = 0; s < config.ranks(); s++) {
            int n = matrix.tokens(s, rank);
            int first = Math.min(n, config.privateTokens());
            long dst = layout.combine + matrix.sendOffset(s, rank) * h;
            if (s == rank) {
                MemorySegment.copy(buffer, privateSlot(s), buffer, dst, first * h);
                MemorySegment.copy(buffer, overflowStart(s), buffer, dst + first * h, (long) (n - first) * h);
                continue;
            }
            long at = layout.combineSend + packAt * h;
            MemorySegment.copy(buffer, privateSlot(s), buffer, at, first * h);
            MemorySegment.copy(buffer, overflowStart(s), buffer, at + first * h, (long) (n - first) * h);
            targets.add(new ScatterTarget(peers.get(s), n * h, at, dst));
            packAt += n;
        }
        if (!targets.isEmpty()) {
            submit(new Scatter(region, targets, OptionalInt.of(config.imm(MoeConfig.COMBINE)),
                    ScatterRouting.SHARD_BYTES));
        }
    }

    private long privateSlot(int source) {
        return layout.privateArea + (long) source * config.privateTokens() * config.tokenBytes();
    }

    private long overflowStart(int source) {
        return layout.overflow + matrix.overflowOffset(source, rank) * config.tokenBytes();
    }

    /** Offsets of every received token, by local expert, in source then token order. */
    private ExpertBatch receivedBatch() {
        int epr = config.expertsPerRank();
        int first = rank * epr;
        long h = config.tokenBytes();
        long[][] offsets = new long[epr][];
        int[][] sources = new int[epr][];
        for (int le = 0; le < epr; le++) {
            int total = 0;
            for (int s = 0; s < config.ranks(); s++) {
                total += matrix.count(s, first + le);
            }
            offsets[le] = new long[total];
            sources[le] = new int[total];
        }
        int[] cursor = new int[epr];
        for (int s = 0; s < config.ranks(); s++) {
            int b = 0;
            for (int le = 0; le < epr; le++) {
                for (int i = 0; i < matrix.count(s, first + le); i++, b++) {
                    long at = b < config.privateTokens() ? privateSlot(s) + b * h
                            : overflowStart(s) + (long) (b - config.privateTokens()) * h;
                    offsets[le][cursor[le]] = at;
                    sources[le][cursor[le]++] = s;
                }
            }
        }
        return new ExpertBatch(buffer, config.tokenBytes(), first, offsets, sources);
    }

    private void submit(dev.transferengine.api.TransferRequest request) {
        engine.submit(request, sent);
        submitted++;
    }

    private void await(ImmCounter counter, long n, Duration timeout, String phase) {
        try {
            counter.await(n, timeout);
        } catch (TransferTimeoutException e) {
            throw new TransferTimeoutException("MoE rank " + rank + ", " + phase + " phase: " + e.getMessage());
        }
        TransferException error = sent.firstError();
        if (error != null) {
            throw error;
        }
    }
}
