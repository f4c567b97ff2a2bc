package dev.transferengine.bench.cli;

import dev.transferengine.api.Access;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.cases.EnginePatternRun;
import dev.transferengine.bench.cases.RateSample;
import dev.transferengine.bench.process.BenchChild;
import dev.transferengine.kits.weights.DType;
import dev.transferengine.kits.weights.ParameterMeta;
import dev.transferengine.kits.weights.Placement;
import dev.transferengine.kits.weights.PushReport;
import dev.transferengine.kits.weights.SyntheticWeights;
import dev.transferengine.kits.weights.WeightPlanner;
import dev.transferengine.kits.weights.WeightPusher;
import dev.transferengine.kits.weights.WeightReceiver;
import dev.transferengine.kits.weights.WeightSchedule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code transfer-bench weights}: the RL weight push kit on a Llama-3-8B-like model scaled down, training ranks
 * FSDP-sharded (rows) and inference ranks tensor-parallel (column-parallel q/k/v/gate/up/embed/head, row-parallel
 * o/down, replicated norms), every rank an engine of its own in this process. Prints time per step, Gbps, the
 * submit cost per write, and the ratio to plain single writes of the same total bytes on the same provider.
 */
@Command(name = "weights", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"RL weight push (kit dev.transferengine.kits.weights): training ranks write their slices "
                + "straight into the inference ranks, verified byte for byte.",
                "Shapes: Llama-3-8B (32 layers, hidden 4096, MLP 14336, 8 KV heads of 128, vocab 128256, bf16, "
                        + "16 GB) with --layers layers and every width divided by --width-divisor."})
public final class WeightsCommand implements Callable<Integer> {
    static final int IMM = 0x3E1A_0100;

    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--train-ranks", paramLabel = "N", defaultValue = "4",
            description = "Training (source) ranks, FSDP row sharding (default: ${DEFAULT-VALUE}).")
    int trainRanks = 4;

    @Option(names = "--infer-ranks", paramLabel = "N", defaultValue = "2",
            description = "Inference (destination) ranks, tensor parallel (default: ${DEFAULT-VALUE}).")
    int inferRanks = 2;

    @Option(names = "--layers", paramLabel = "N", defaultValue = "4",
            description = "Transformer layers (Llama-3-8B has 32) (default: ${DEFAULT-VALUE}).")
    int layers = 4;

    @Option(names = "--width-divisor", paramLabel = "N", defaultValue = "4",
            description = "Divides hidden, MLP, KV and vocab widths (default: ${DEFAULT-VALUE}).")
    int widthDivisor = 4;

    @Option(names = "--watermark", paramLabel = "BYTES", defaultValue = "32M",
            description = "Staging memory per training rank (default: ${DEFAULT-VALUE}).")
    String watermark = "32M";

    @Option(names = "--steps", paramLabel = "N", defaultValue = "3",
            description = "Timed steps after one verified warm-up step (default: ${DEFAULT-VALUE}).")
    int steps = 3;

    @Option(names = "--processes", description = "Every training rank in a JVM of its own (tcp or shm), pushing "
            + "into the inference ranks of this one; descriptors handed over as hex.")
    boolean processes;

    /** Set in the child JVMs of {@code --processes}: push as training rank R, one step per {@code STEP} line. */
    @Option(names = "--as-train-rank", paramLabel = "R", hidden = true, defaultValue = "-1")
    int asTrainRank = -1;

    @Spec
    CommandSpec spec;

    /** Llama-3-8B's parameters with widths divided by {@code div}, the two shardings described in the class comment. */
    static List<ParameterMeta> model(int layers, int div) {
        long hidden = 4096 / div, mlp = 14336 / div, kv = 1024 / div, vocab = 128256 / div;
        Placement fsdp = Placement.rows();
        List<ParameterMeta> p = new ArrayList<>();
        p.add(ParameterMeta.of("embed_tokens", DType.BF16, fsdp, Placement.rows(), vocab, hidden));
        for (int l = 0; l < layers; l++) {
            String n = "layers." + l + ".";
            p.add(ParameterMeta.of(n + "input_layernorm", DType.BF16, fsdp, Placement.REPLICATED, hidden));
            p.add(ParameterMeta.of(n + "q_proj", DType.BF16, fsdp, Placement.rows(), hidden, hidden));
            p.add(ParameterMeta.of(n + "k_proj", DType.BF16, fsdp, Placement.rows(), kv, hidden));
            p.add(ParameterMeta.of(n + "v_proj", DType.BF16, fsdp, Placement.rows(), kv, hidden));
            p.add(ParameterMeta.of(n + "o_proj", DType.BF16, fsdp, Placement.columns(), hidden, hidden));
            p.add(ParameterMeta.of(n + "post_attention_layernorm", DType.BF16, fsdp, Placement.REPLICATED, hidden));
            p.add(ParameterMeta.of(n + "gate_proj", DType.BF16, fsdp, Placement.rows(), mlp, hidden));
            p.add(ParameterMeta.of(n + "up_proj", DType.BF16, fsdp, Placement.rows(), mlp, hidden));
            p.add(ParameterMeta.of(n + "down_proj", DType.BF16, fsdp, Placement.columns(), hidden, mlp));
        }
        p.add(ParameterMeta.of("norm", DType.BF16, fsdp, Placement.REPLICATED, hidden));
        p.add(ParameterMeta.of("lm_head", DType.BF16, fsdp, Placement.rows(), vocab, hidden));
        return p;
    }

    @Override
    public Integer call() throws Exception {
        if (trainRanks < 1 || inferRanks < 1 || layers < 1 || widthDivisor < 1 || widthDivisor > 128 || steps < 1) {
            throw new IllegalArgumentException("need ranks >= 1, --layers >= 1, --width-divisor 1..128, --steps >= 1");
        }
        if (processes && engine.provider() == ProviderChoice.LOOPBACK) {
            throw new IllegalArgumentException("--processes needs a provider that crosses processes (tcp or shm); "
                    + "loopback engines meet only inside one JVM");
        }
        PrintWriter out = spec.commandLine().getOut();
        List<ParameterMeta> params = model(layers, widthDivisor);
        WeightSchedule schedule = WeightPlanner.plan(params, trainRanks, inferRanks);
        if (asTrainRank >= 0) {
            return runAsTrainingRank(schedule);
        }
        long modelBytes = params.stream().mapToLong(ParameterMeta::bytes).sum();
        long pushBytes = 0;
        long requests = 0;
        for (int s = 0; s < trainRanks; s++) {
            pushBytes += schedule.bytesPerStep(s);
            requests += schedule.requestsPerStep(s);
        }
        out.printf(Locale.ROOT, "model: %d parameters, %s (Llama-3-8B shapes, %d layers, widths / %d); %d training "
                        + "ranks (FSDP rows) -> %d inference ranks (TP); %s written per step in %d writes%n",
                params.size(), ByteSize.format(modelBytes), layers, widthDivisor, trainRanks, inferRanks,
                ByteSize.format(pushBytes), requests);
        out.flush();
        List<AutoCloseable> closeables = new ArrayList<>();
        Arena arena = Arena.ofShared();
        ExecutorService pool = Executors.newFixedThreadPool(trainRanks);
        try {
            List<WeightReceiver> receivers = new ArrayList<>();
            List<MemoryRegion> weights = new ArrayList<>();
            List<RemoteRegion> descriptors = new ArrayList<>();
            for (int d = 0; d < inferRanks; d++) {
                TransferEngine e = engine.builder("infer" + d).build();
                closeables.add(e);
                MemoryRegion r = e.register(arena.allocate(schedule.destinationBufferBytes(d), 4096), Access.REMOTE_WRITE);
                weights.add(r);
                descriptors.add(RemoteRegion.fromHex(r.descriptor().toHex()));
                WeightReceiver receiver = new WeightReceiver(e, schedule, d, r, IMM, engine.nicsPerGpu());
                closeables.add(receiver);
                receivers.add(receiver);
            }
            TrainingSide training = processes ? new ProcessTraining(descriptors) : new ThreadTraining(schedule,
                    descriptors, arena, pool);
            closeables.add(training);
            out.printf(Locale.ROOT, "training ranks: %s%n", training.where());
            step(training, receivers);
            verify(schedule, weights, "warm-up step");
            for (MemoryRegion w : weights) {
                w.segment().fill((byte) 0);
            }
            long start = System.nanoTime();
            List<PushReport> last = null;
            for (int i = 0; i < steps; i++) {
                last = step(training, receivers);
            }
            double seconds = (System.nanoTime() - start) / 1e9 / steps;
            verify(schedule, weights, "timed steps");
            for (int d = 0; d < inferRanks; d++) {
                if (receivers.get(d).immsArrived() != receivers.get(d).immsPerStep() * (steps + 1)) {
                    throw new BenchFailure("inference rank " + d + " counted " + receivers.get(d).immsArrived()
                            + " imms, expected " + receivers.get(d).immsPerStep() * (steps + 1));
                }
            }
            double gbps = pushBytes * 8 / seconds / 1e9;
            out.printf(Locale.ROOT, "push: %.2f ms per step, %.3f Gbps (all ranks together), bytes verified on every "
                    + "inference rank%n", seconds * 1e3, gbps);
            for (int s = 0; s < trainRanks; s++) {
                PushReport r = last.get(s);
                out.printf(Locale.ROOT, "  train rank %d: %d tasks, %d submits (%d NIC writes before sharding), "
                                + "%.2f us per submit (longest %.1f us), prepare %.2f ms, waiting %.2f ms, "
                                + "peak staged %s%n", s, r.tasks(),
                        r.requests(), r.workRequests(), r.submitMicrosPerRequest(), r.maxSubmitNanos() / 1e3,
                        r.prepareNanos() / 1e6,
                        r.stallNanos() / 1e6, ByteSize.format(r.peakStagedBytes()));
            }
            out.flush();
            long size = Math.max(1, Math.min(pushBytes, Math.max(4096, pushBytes / requests)));
            int count = (int) Math.max(16, Math.min(100_000, pushBytes / size));
            RateSample raw = new EnginePatternRun(engine).measure(size, Math.min(count, 64), count, 64);
            out.printf(Locale.ROOT, "baseline: plain single writes of %s (the mean slice), %d of them, one writer, "
                            + "window 64: %.3f Gbps; weight push / baseline = %.2f%n", ByteSize.format(size), count,
                    raw.gbps(), gbps / raw.gbps());
            return 0;
        } finally {
            pool.shutdownNow();
            for (int i = closeables.size() - 1; i >= 0; i--) {
                closeables.get(i).close();
            }
            arena.close();
        }
    }

    /** One step: every training rank pushes, then every inference rank awaits its count. */
    private List<PushReport> step(TrainingSide training, List<WeightReceiver> receivers) throws Exception {
        List<PushReport> reports = training.step();
        for (WeightReceiver r : receivers) {
            r.awaitStep(engine.timeout());
        }
        return reports;
    }

    /** Where the training ranks run and how one step of theirs is pushed. */
    private interface TrainingSide extends AutoCloseable {
        String where();

        /** Every training rank pushes its writes of one step; their reports in rank order. */
        List<PushReport> step() throws Exception;
    }

    /** The training ranks as engines of this process, each pushing on a thread of {@code pool}. */
    private final class ThreadTraining implements TrainingSide {
        private final List<AutoCloseable> closeables = new ArrayList<>();
        private final List<WeightPusher> pushers = new ArrayList<>();
        private final ExecutorService pool;

        ThreadTraining(WeightSchedule schedule, List<RemoteRegion> descriptors, Arena arena, ExecutorService pool) {
            this.pool = pool;
            for (int s = 0; s < trainRanks; s++) {
                TransferEngine e = engine.builder("train" + s).build();
                closeables.add(e);
                WeightPusher p = pusher(e, schedule, s, descriptors, arena);
                closeables.add(p);
                pushers.add(p);
            }
        }

        @Override
        public String where() {
            return "threads of this process";
        }

        @Override
        public List<PushReport> step() throws Exception {
            List<Future<PushReport>> futures = new ArrayList<>();
            for (WeightPusher p : pushers) {
                futures.add(pool.submit(p::push));
            }
            List<PushReport> reports = new ArrayList<>();
            for (Future<PushReport> f : futures) {
                reports.add(f.get(engine.timeout().toMillis() * 2, java.util.concurrent.TimeUnit.MILLISECONDS));
            }
            return reports;
        }

        @Override
        public void close() throws Exception {
            for (int i = closeables.size() - 1; i >= 0; i--) {
                closeables.get(i).close();
            }
        }
    }

    /**
     * The training ranks as child JVMs ({@code weights --as-train-rank R} with this run's options). Each answers
     * {@code @READY} once it has the inference ranks' descriptors ({@code DESCRIPTORS <hex>...}), then
     * {@code @PUSHED <report fields>} for every {@code STEP}; closing its stdin ends it.
     */
    private final class ProcessTraining implements TrainingSide {
        private final List<BenchChild> children = new ArrayList<>();

        ProcessTraining(List<RemoteRegion> descriptors) throws java.io.IOException {
            StringBuilder line = new StringBuilder("DESCRIPTORS");
            descriptors.forEach(d -> line.append(' ').append(d.toHex()));
            for (int s = 0; s < trainRanks; s++) {
                List<String> args = new ArrayList<>(List.of("weights", "--as-train-rank", Integer.toString(s)));
                args.addAll(engine.asArgs());
                args.addAll(List.of("--train-ranks", Integer.toString(trainRanks), "--infer-ranks",
                        Integer.toString(inferRanks), "--layers", Integer.toString(layers), "--width-divisor",
                        Integer.toString(widthDivisor), "--watermark", watermark, "--steps", Integer.toString(steps)));
                BenchChild c = BenchChild.start("training rank " + s, args);
                children.add(c);
                c.send(line.toString());
            }
            for (BenchChild c : children) {
                if (!c.answer(java.time.Duration.ofSeconds(120)).equals("READY")) {
                    throw new BenchFailure("a training rank did not get ready");
                }
            }
        }

        @Override
        public String where() {
            return "processes, pids " + children.stream().map(c -> Long.toString(c.pid()))
                    .collect(java.util.stream.Collectors.joining(","));
        }

        @Override
        public List<PushReport> step() {
            children.forEach(c -> c.send("STEP"));
            List<PushReport> reports = new ArrayList<>();
            for (BenchChild c : children) {
                String a = c.answer(engine.timeout().multipliedBy(2));
                String[] w = a.split(" ");
                if (!w[0].equals("PUSHED") || w.length != 11) {
                    throw new BenchFailure("a training rank answered '" + a + "' to STEP");
                }
                long[] v = new long[10];
                for (int i = 0; i < 10; i++) {
                    v[i] = Long.parseLong(w[i + 1]);
                }
                reports.add(new PushReport((int) v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]));
            }
            return reports;
        }

        @Override
        public void close() {
            children.forEach(BenchChild::close);
        }
    }

    /** A training rank's pusher; its preparation stage copies out of the rank's own synthetic shards. */
    private WeightPusher pusher(TransferEngine e, WeightSchedule schedule, int rank, List<RemoteRegion> descriptors,
                                Arena arena) {
        MemorySegment trained = arena.allocate(Math.max(1, schedule.sourceBufferBytes(rank)), 4096);
        SyntheticWeights.fillSource(schedule, rank, trained, 0);
        // the preparation stage: a copy out of the trainer's own shards (stands in for H2D, gather, quantise)
        return new WeightPusher(e, schedule, rank, descriptors, ByteSize.parse(watermark), IMM,
                (task, staging, step) -> MemorySegment.copy(trained, schedule.sourceOffset(rank, task.parameter()),
                        staging, 0, task.shardBytes()), engine.timeout());
    }

    /** The child side of {@link ProcessTraining}. */
    private int runAsTrainingRank(WeightSchedule schedule) throws Exception {
        java.io.PrintStream out = System.out;
        java.io.BufferedReader in = BenchChild.fromParent();
        List<RemoteRegion> descriptors = BenchChild.readDescriptors(in, "DESCRIPTORS", "training rank " + asTrainRank);
        String line;
        try (Arena arena = Arena.ofShared();
             TransferEngine e = engine.builder("train" + asTrainRank).build();
             WeightPusher p = pusher(e, schedule, asTrainRank, descriptors, arena)) {
            out.println("@READY");
            out.flush();
            for (line = in.readLine(); line != null; line = in.readLine()) {
                if (!line.equals("STEP")) {
                    out.println("@ERR unknown command " + line);
                } else {
                    PushReport r = p.push();
                    out.println("@PUSHED " + r.tasks() + " " + r.requests() + " " + r.workRequests() + " " + r.bytes()
                            + " " + r.submitNanos() + " " + r.maxSubmitNanos() + " " + r.prepareNanos() + " "
                            + r.stallNanos() + " " + r.totalNanos() + " " + r.peakStagedBytes());
                }
                out.flush();
            }
        }
        return 0;
    }

    private static void verify(WeightSchedule schedule, List<MemoryRegion> weights, String what) {
        for (int d = 0; d < weights.size(); d++) {
            long bad = SyntheticWeights.firstMismatch(schedule, d, weights.get(d).segment(), 0);
            if (bad >= 0) {
                throw new BenchFailure(what + ": inference rank " + d + " has a wrong byte at offset " + bad);
            }
        }
    }
}
