package dev.transferengine.bench.cli;

import dev.transferengine.api.Access;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ImmAccounting;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.process.BenchChild;
import dev.transferengine.kits.kv.KvCache;
import dev.transferengine.kits.kv.KvDecoder;
import dev.transferengine.kits.kv.KvLayout;
import dev.transferengine.kits.kv.KvPattern;
import dev.transferengine.kits.kv.KvPrefillJob;
import dev.transferengine.kits.kv.KvPrefiller;
import dev.transferengine.kits.kv.KvSchedule;
import dev.transferengine.kits.kv.KvTransfer;
import dev.transferengine.cuda.Cuda;
import dev.transferengine.cuda.CudaDeviceMemory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code transfer-bench kv}: the KV-cache hand-off kit ({@code dev.transferengine.kits.kv}) between a prefill side
 * and a decode side in this process, every tensor-parallel rank with its own engine, on a Llama-3-70B-like cache
 * (scaled down with {@code --layers}). Per prompt length and round: the decoder requests the prefill, every
 * prefiller rank "computes" its chunks layer by layer (the layer callback fires at once: transfer only), the
 * decoder counts imms; then the same rank pairs move the same bytes as one plain single write each. Prints time,
 * Gbps and the kit's rate over the single-write rate, and checks every byte the decoder holds at the end.
 */
@Command(name = "kv", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"KV-cache hand-off (prefill -> decode) with the kv kit, against plain single writes of the "
                + "same bytes between the same ranks, same provider, same run.",
                "Shape: Llama-3-70B (80 layers, 8 KV heads, head dim 128, bf16, 16-token pages); --layers scales it."})
public final class KvCommand implements Callable<Integer> {
    private static final long SEED = 0x6B76_2026L;
    private static final int BASELINE_IMM = 0x4B55_0000;

    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "host",
            description = "host (default) or cuda:N: every rank's KV cache and context in GPU memory of device N, both "
                    + "sides (all ranks on the one GPU); bytes checked after copying them back. Needs a GPU.")
    String device = "host";

    @Option(names = "--processes", description = "The prefill side (every prefill rank) in a JVM of its own (tcp or "
            + "shm), the decode side in this one: prefiller addresses and decoder descriptors cross as hex. With "
            + "--device cuda:N both processes keep their caches on that GPU (shm: the engine's CUDA IPC path).")
    boolean processes;

    /** Set in the child JVM of {@code --processes}: run the prefill side and answer the parent's lines. */
    @Option(names = "--as-prefill-side", hidden = true)
    boolean asPrefillSide;

    /** The CUDA ordinal of {@code --device}, or -1 for host memory. */
    private int cuda = -1;

    @Option(names = "--layers", paramLabel = "N", defaultValue = "80", description = "Attention layers (default: ${DEFAULT-VALUE}).")
    int layers = 80;

    @Option(names = "--kv-heads", paramLabel = "N", defaultValue = "8", description = "KV heads (default: ${DEFAULT-VALUE}).")
    int kvHeads = 8;

    @Option(names = "--head-dim", paramLabel = "N", defaultValue = "128", description = "Head dimension (default: ${DEFAULT-VALUE}).")
    int headDim = 128;

    @Option(names = "--page-tokens", paramLabel = "N", defaultValue = "16", description = "Tokens per page (default: ${DEFAULT-VALUE}).")
    int pageTokens = 16;

    @Option(names = "--prompts", paramLabel = "LIST", defaultValue = "4K,16K",
            description = "Prompt lengths in tokens (default: ${DEFAULT-VALUE}).")
    String prompts = "4K,16K";

    @Option(names = "--prefill-tp", paramLabel = "N", defaultValue = "2", description = "Prefiller tensor-parallel ranks (default: ${DEFAULT-VALUE}).")
    int prefillTp = 2;

    @Option(names = "--decode-tp", paramLabel = "N", defaultValue = "4", description = "Decoder tensor-parallel ranks (default: ${DEFAULT-VALUE}).")
    int decodeTp = 4;

    @Option(names = "--chunk-tokens", paramLabel = "N", defaultValue = "4096", description = "Chunked-prefill chunk (default: ${DEFAULT-VALUE}).")
    int chunkTokens = 4096;

    @Option(names = "--context-bytes", paramLabel = "BYTES", defaultValue = "16K",
            description = "Context buffer (last hidden state, logits) per decoder rank (default: ${DEFAULT-VALUE}).")
    String contextBytes = "16K";

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "3", description = "Rounds per prompt; the median is printed (default: ${DEFAULT-VALUE}).")
    int rounds = 3;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "2",
            description = "Untimed rounds per prompt before the timed ones (default: ${DEFAULT-VALUE}).")
    int warmup = 2;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        KvLayout layout;
        List<Long> tokenCounts = ByteSize.parseList(prompts);
        long context = ByteSize.parse(contextBytes);
        if (rounds < 1 || warmup < 0 || tokenCounts.isEmpty()) {
            throw new IllegalArgumentException("need --rounds >= 1, --warmup >= 0 and at least one prompt length");
        }
        int capacity;
        try {
            layout = new KvLayout(layers, kvHeads, headDim, 2, pageTokens);
            layout.headsOf(0, prefillTp);
            layout.headsOf(0, decodeTp);
            capacity = tokenCounts.stream().mapToInt(layout::pagesFor).max().orElseThrow();
        } catch (InvalidRequestException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        if (chunkTokens < 1 || chunkTokens % pageTokens != 0) {
            throw new IllegalArgumentException("--chunk-tokens must be a positive multiple of --page-tokens ("
                    + pageTokens + "), got " + chunkTokens);
        }
        cuda = cudaOrdinal(device);
        if (cuda >= 0 && !Cuda.isAvailable()) {
            throw new BenchFailure("no usable GPU: " + Cuda.unavailabilityCause().getMessage(), null);
        }
        if (processes && engine.provider() == ProviderChoice.LOOPBACK) {
            throw new IllegalArgumentException("--processes needs a provider that crosses processes (tcp or shm):"
                    + " loopback engines meet only inside one JVM");
        }
        if (asPrefillSide) {
            try (Sides sides = new Sides(layout, capacity, context, Part.PREFILL)) {
                sides.serveParent();
            }
            return 0;
        }
        PrintWriter out = spec.commandLine().getOut();
        try (Sides sides = new Sides(layout, capacity, context, processes ? Part.DECODE : Part.BOTH)) {
            out.printf(Locale.ROOT, "kv hand-off: %s memory, provider %s (%s), %d NIC(s) per rank; %d layers, "
                            + "%d KV heads x %d, bf16, %d-token pages; prefill TP %d -> decode TP %d, %d-token chunks, "
                            + "%s context; median of %d rounds after %d warm-up%s%n", cuda < 0 ? "host" : "GPU (" + device + ")",
                    engine.provider().cliName(), sides.decodeEngines.getFirst().providerName(),
                    engine.nicsPerGpu(), layers, kvHeads, headDim, pageTokens, prefillTp, decodeTp, chunkTokens,
                    contextBytes, rounds, warmup, sides.prefillProcess == null ? ""
                            : "; prefill side in another process (pid " + sides.prefillProcess.pid() + ")");
            out.printf(Locale.ROOT, "%8s %6s %10s %9s %10s %9s %11s %13s %10s  %s%n", "tokens", "pages", "KV MiB",
                    "writes", "kit ms", "kit Gbps", "single ms", "single Gbps", "kit/single", "bytes");
            for (long tokens : tokenCounts) {
                out.println(sides.measure(tokens));
                out.flush();
            }
        }
        return 0;
    }

    /** Both sides' engines, caches and kit objects. */
    private final class Sides implements AutoCloseable {
        final KvLayout layout;
        final int capacity;
        final long contextBytes;
        final Arena arena = Arena.ofShared();
        final List<TransferEngine> prefillEngines = new ArrayList<>();
        final List<TransferEngine> decodeEngines = new ArrayList<>();
        final List<KvCache> prefillCaches = new ArrayList<>();
        final List<KvCache> decodeCaches = new ArrayList<>();
        final List<MemoryRegion> prefillContexts = new ArrayList<>();
        final List<KvPrefiller> prefillers = new ArrayList<>();
        final ExecutorService compute;
        final KvDecoder decoder;
        final ImmCounter[] baselineCounters;
        /** The GPU memory behind each device region ({@code --device cuda:N}), freed after the engines closed. */
        final Map<MemoryRegion, CudaDeviceMemory> gpu = new IdentityHashMap<>();
        /** {@code --processes}: the child JVM with the prefill side, and its prefillers' addresses. */
        final BenchChild prefillProcess;
        final List<DomainAddress> prefillAddresses = new ArrayList<>();

        Sides(KvLayout layout, int capacity, long contextBytes, Part part) {
            this.layout = layout;
            this.capacity = capacity;
            this.contextBytes = contextBytes;
            this.compute = Executors.newFixedThreadPool(prefillTp);
            List<KvDecoder.Rank> ranks = new ArrayList<>();
            int[] identity = new int[capacity];
            Arrays.setAll(identity, i -> i);
            for (int p = 0; p < (part == Part.DECODE ? 0 : prefillTp); p++) {
                TransferEngine e = engine.builder("kv-prefill-" + p, cuda).build();
                prefillEngines.add(e);
                long cacheBytes = KvCache.requiredBytes(layout, prefillTp, capacity);
                KvCache cache = new KvCache(layout, p, prefillTp, region(e, cacheBytes, Access.LOCAL), capacity);
                fillPattern(e, cache, identity);
                prefillCaches.add(cache);
                MemoryRegion ctx = region(e, Math.max(1, contextBytes), Access.LOCAL);
                if (cuda < 0) {
                    ctx.segment().fill((byte) (p + 1));
                } else {
                    gpu.get(ctx).fill((byte) (p + 1));
                }
                prefillContexts.add(ctx);
                prefillers.add(new KvPrefiller(e, cache, chunkTokens, n -> Arrays.copyOf(identity, n),
                        job -> compute.execute(() -> runJob(job, ctx))));
                prefillAddresses.add(prefillers.getLast().address());
            }
            if (part == Part.PREFILL) {
                prefillProcess = null;
                decoder = null;
                baselineCounters = null;
                return;
            }
            prefillProcess = part == Part.DECODE ? startPrefillProcess() : null;
            for (int d = 0; d < decodeTp; d++) {
                TransferEngine e = engine.builder("kv-decode-" + d, cuda).build();
                decodeEngines.add(e);
                KvCache cache = new KvCache(layout, d, decodeTp, region(e, KvCache.requiredBytes(layout, decodeTp,
                        capacity), Access.REMOTE_WRITE), capacity);
                decodeCaches.add(cache);
                ranks.add(new KvDecoder.Rank(e, cache, region(e, Math.max(1, contextBytes), Access.REMOTE_WRITE)));
            }
            decoder = new KvDecoder(ranks, KvDecoder.Options.defaults());
            baselineCounters = decodeEngines.stream().map(e -> e.immCounter(BASELINE_IMM)).toArray(ImmCounter[]::new);
        }

        /**
         * Host memory, or with {@code --device cuda:N} zeroed GPU memory registered with {@code registerDevice}: a
         * prefiller's as a write source ({@code LOCAL}: a staged GPU target could not be one), a decoder's for
         * peers to write ({@code REMOTE_WRITE}).
         */
        private MemoryRegion region(TransferEngine e, long bytes, Access gpuAccess) {
            if (cuda < 0) {
                return e.register(arena.allocate(bytes, 4096), Access.REMOTE_WRITE);
            }
            CudaDeviceMemory memory = CudaDeviceMemory.allocate(cuda, bytes);
            try {
                memory.fill((byte) 0);
                MemoryRegion r = e.registerDevice(memory.address(), bytes, cuda, gpuAccess);
                gpu.put(r, memory);
                return r;
            } catch (RuntimeException ex) {
                memory.close();
                throw ex;
            }
        }

        /** {@link KvPattern#fill} into the cache, through a host copy when it is GPU memory. */
        private void fillPattern(TransferEngine e, KvCache cache, int[] pages) {
            if (cuda < 0) {
                KvPattern.fill(cache, pages, SEED);
                return;
            }
            MemorySegment host = arena.allocate(cache.region().lengthBytes(), 4096);
            try (MemoryRegion mirror = e.register(host, Access.LOCAL)) {
                KvPattern.fill(new KvCache(layout, cache.rank(), cache.tpSize(), mirror, capacity), pages, SEED);
            }
            gpu.get(cache.region()).copyFromHost(host, 0);
        }

        /** {@link KvPattern#firstMismatch} over the cache, through a host copy when it is GPU memory. */
        private String firstMismatch(TransferEngine e, KvCache cache, int[] pages) {
            if (cuda < 0) {
                return KvPattern.firstMismatch(cache, pages, SEED, layout.layers());
            }
            // Shared, not confined: registering the copy runs on the engine's worker thread.
            try (Arena copyArena = Arena.ofShared()) {
                MemorySegment host = copyArena.allocate(cache.region().lengthBytes(), 4096);
                gpu.get(cache.region()).copyToHost(0, host);
                try (MemoryRegion mirror = e.register(host, Access.LOCAL)) {
                    return KvPattern.firstMismatch(new KvCache(layout, cache.rank(), cache.tpSize(), mirror, capacity),
                            pages, SEED, layout.layers());
                }
            }
        }

        /** The prefiller's compute loop: each chunk's layers in order, then the context. */
        private void runJob(KvPrefillJob job, MemoryRegion ctx) {
            for (int c = 0; c < job.chunkCount(); c++) {
                for (int l = 0; l < layout.layers(); l++) {
                    if (!job.layerDone(c, l)) {
                        return;
                    }
                }
            }
            job.contextReady(ctx, 0);
        }

        String measure(long tokens) {
            int pages = layout.pagesFor(tokens);
            int[] decoderPages = shuffledPages(pages, tokens);
            for (int r = 0; r < warmup; r++) {
                singleWrites(pages);
                handOff(tokens, decoderPages);
            }
            long[] kit = new long[rounds];
            long[] single = new long[rounds];
            for (int r = 0; r < rounds; r++) {
                // Baseline first: its writes overwrite the decoder caches, so the check below sees the last
                // hand-off's bytes and nothing older.
                single[r] = singleWrites(pages);
                kit[r] = handOff(tokens, decoderPages);
            }
            for (int d = 0; d < decodeTp; d++) {
                String bad = firstMismatch(decodeEngines.get(d), decodeCaches.get(d), decoderPages);
                if (bad != null) {
                    throw new BenchFailure("KV bytes wrong after the hand-off: " + bad);
                }
            }
            long kvBytes = layout.bytesFor(pages);
            long writes = 0;
            for (int d = 0; d < decodeTp; d++) {
                writes += KvSchedule.expectedImms(layout, prefillTp, decodeTp, d, pages, contextBytes > 0);
            }
            double kitNanos = median(kit);
            double singleNanos = median(single);
            return String.format(Locale.ROOT, "%8d %6d %10.1f %9d %10.2f %9.2f %11.2f %13.2f %10.2f  verified",
                    tokens, pages, kvBytes / 1048576.0, writes, kitNanos / 1e6, gbps(kvBytes, kitNanos),
                    singleNanos / 1e6, gbps(kvBytes, singleNanos), singleNanos / kitNanos);
        }

        private int[] shuffledPages(int pages, long tokens) {
            int[] all = new int[capacity];
            Arrays.setAll(all, i -> i);
            Random random = new Random(SEED ^ tokens);
            for (int i = all.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = all[i];
                all[i] = all[j];
                all[j] = t;
            }
            return Arrays.copyOf(all, pages);
        }

        /** One hand-off, timed from the request to the decoder's last imm. */
        private long handOff(long tokens, int[] decoderPages) {
            long start = System.nanoTime();
            KvTransfer t = decoder.requestPrefill(prefillAddresses, tokens,
                    decoderPages, 0, contextBytes);
            t.await(engine.timeout());
            return System.nanoTime() - start;
        }

        /**
         * The baseline: every rank pair the kit uses moves the same bytes (layers x K,V x pages x shared heads) as one
         * single write over all NICs, all pairs at once; timed until every decoder rank counted its imms. With
         * {@code --processes} the prefill process submits them ({@code SINGLE}) and says how many imms each decoder
         * rank gets ({@code @SUBMITTED}) before they complete ({@code @WROTE}).
         */
        private long singleWrites(int pages) {
            long start = System.nanoTime();
            long[] imms;
            if (prefillProcess != null) {
                StringBuilder line = new StringBuilder("SINGLE ").append(pages);
                decodeCaches.forEach(c -> line.append(' ').append(c.region().descriptor().toHex()));
                prefillProcess.send(line.toString());
                String[] w = prefillProcess.answer(engine.timeout()).split(" ");
                if (!w[0].equals("SUBMITTED") || w.length != decodeTp + 1) {
                    throw new BenchFailure("the prefill process answered '" + String.join(" ", w) + "' to SINGLE");
                }
                imms = new long[decodeTp];
                for (int d = 0; d < decodeTp; d++) {
                    imms[d] = Long.parseLong(w[d + 1]);
                }
            } else {
                imms = null;
            }
            TransferCounter done = new TransferCounter();
            int submitted = 0;
            if (imms == null) {
                imms = new long[decodeTp];
                submitted = submitSingleWrites(pages, decodeCaches.stream().map(c -> c.region().descriptor()).toList(),
                        done, imms);
            }
            for (int d = 0; d < decodeTp; d++) {
                baselineCounters[d].await(imms[d], engine.timeout());
            }
            long elapsed = System.nanoTime() - start;
            if (prefillProcess != null) {
                String wrote = prefillProcess.answer(engine.timeout());
                if (!wrote.equals("WROTE")) {
                    throw new BenchFailure("the prefill process's single writes: " + wrote);
                }
            } else {
                done.await(submitted, engine.timeout());
                done.throwIfFailed();
            }
            return elapsed;
        }

        /** Submits the baseline's writes from this process's prefill ranks; fills {@code imms}; returns the count. */
        private int submitSingleWrites(int pages, List<RemoteRegion> decoders, TransferCounter done, long[] imms) {
            List<SingleWrite> writes = new ArrayList<>();
            List<TransferEngine> writers = new ArrayList<>();
            for (int p = 0; p < prefillTp; p++) {
                KvLayout.HeadRange src = layout.headsOf(p, prefillTp);
                for (int d = 0; d < decodeTp; d++) {
                    KvLayout.HeadRange dst = layout.headsOf(d, decodeTp);
                    KvLayout.HeadRange shared = src.intersect(dst);
                    if (shared.count() == 0) {
                        continue;
                    }
                    long bytes = 2L * layout.layers() * pages * shared.count() * layout.headBlockBytes();
                    long dstOffset = (long) (shared.first() - dst.first()) / shared.count() * bytes;
                    SingleWrite w = SingleWrite.withImm(prefillCaches.get(p).region(), 0, bytes, decoders.get(d),
                            dstOffset, BASELINE_IMM);
                    writes.add(w);
                    writers.add(prefillEngines.get(p));
                    imms[d] += ImmAccounting.immsProduced(w, prefillEngines.get(p).nicCount(0));
                }
            }
            for (int i = 0; i < writes.size(); i++) {
                writers.get(i).submit(writes.get(i), done);
            }
            return writes.size();
        }

        /** Starts the child JVM with the prefill side and reads its prefillers' addresses. */
        private BenchChild startPrefillProcess() {
            List<String> args = new ArrayList<>(List.of("kv", "--as-prefill-side"));
            args.addAll(engine.asArgs());
            args.addAll(List.of("--layers", Integer.toString(layers), "--kv-heads", Integer.toString(kvHeads),
                    "--head-dim", Integer.toString(headDim), "--page-tokens", Integer.toString(pageTokens),
                    "--prompts", prompts, "--prefill-tp", Integer.toString(prefillTp), "--decode-tp",
                    Integer.toString(decodeTp), "--chunk-tokens", Integer.toString(chunkTokens), "--context-bytes",
                    KvCommand.this.contextBytes, "--device", device));
            BenchChild child;
            try {
                child = BenchChild.start("prefill process", args);
            } catch (java.io.IOException e) {
                throw new BenchFailure("could not start the prefill process", e);
            }
            String[] ready = child.answer(java.time.Duration.ofSeconds(120)).split(" ");
            if (!ready[0].equals("READY") || ready.length != prefillTp + 1) {
                child.close();
                throw new BenchFailure("the prefill process answered '" + String.join(" ", ready) + "'");
            }
            for (int p = 0; p < prefillTp; p++) {
                prefillAddresses.add(DomainAddress.fromHex(ready[p + 1]));
            }
            return child;
        }

        /**
         * The child's side of {@code --processes}: prints {@code @READY <prefiller addresses>}; the prefillers answer
         * the decoder's requests by themselves; {@code SINGLE <pages> <decoder descriptors>} submits the baseline's
         * writes. Ends when the parent closes stdin.
         */
        void serveParent() throws java.io.IOException {
            java.io.PrintStream out = System.out;
            out.println("@READY " + String.join(" ", prefillAddresses.stream().map(DomainAddress::toHex).toList()));
            out.flush();
            java.io.BufferedReader in = BenchChild.fromParent();
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                String[] w = line.split(" ");
                if (!w[0].equals("SINGLE") || w.length != decodeTp + 2) {
                    out.println("@ERR unknown command " + line);
                    out.flush();
                    continue;
                }
                List<RemoteRegion> decoders = new ArrayList<>();
                for (int d = 0; d < decodeTp; d++) {
                    decoders.add(RemoteRegion.fromHex(w[d + 2]));
                }
                long[] imms = new long[decodeTp];
                TransferCounter done = new TransferCounter();
                int n = submitSingleWrites(Integer.parseInt(w[1]), decoders, done, imms);
                StringBuilder submitted = new StringBuilder("@SUBMITTED");
                for (long i : imms) {
                    submitted.append(' ').append(i);
                }
                out.println(submitted);
                out.flush();
                try {
                    done.await(n, engine.timeout());
                    done.throwIfFailed();
                    out.println("@WROTE");
                } catch (RuntimeException e) {
                    out.println("@FAILED " + String.valueOf(e.getMessage()).replace('\n', ' '));
                }
                out.flush();
            }
        }

        @Override
        public void close() {
            if (decoder != null) {
                decoder.close();
            }
            if (prefillProcess != null) {
                prefillProcess.close();
            }
            prefillers.forEach(KvPrefiller::close);
            compute.shutdownNow();
            decodeEngines.forEach(TransferEngine::close);
            prefillEngines.forEach(TransferEngine::close);
            gpu.values().forEach(CudaDeviceMemory::close);
            arena.close();
        }
    }

    /** Which side(s) of the hand-off this process holds. */
    private enum Part { BOTH, PREFILL, DECODE }

    /** {@code host} gives -1, {@code cuda:N} gives N. */
    static int cudaOrdinal(String device) {
        if (device.equals("host")) {
            return -1;
        }
        if (device.startsWith("cuda:")) {
            try {
                int n = Integer.parseInt(device.substring("cuda:".length()));
                if (n >= 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // below
            }
        }
        throw new IllegalArgumentException("--device must be host or cuda:N, got '" + device + "'");
    }

    private static double median(long[] values) {
        long[] s = values.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }

    private static double gbps(long bytes, double nanos) {
        return bytes * 8.0 / nanos;
    }
}
