package dev.transferengine.bench.cli;

import dev.transferengine.api.ThreadingMode;
import dev.transferengine.bench.baseline.NativeBaseline;
import dev.transferengine.bench.cases.EnginePatternRun;
import dev.transferengine.bench.cases.RateSample;
import dev.transferengine.bench.cases.SweepPlan;
import dev.transferengine.bench.report.CompareReport;
import dev.transferengine.bench.report.CompareRow;
import dev.transferengine.efa.LibfabricOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * {@code transfer-bench compare}: the C baseline ({@code benchmarks/native/fi_write_bench.c}, straight over
 * libfabric) and the Java engine, same provider, same libfabric settings, same write pattern, same counts,
 * back to back and interleaved over several rounds; prints both and their ratio per size. Runs on the
 * command's thread; the C side is a child process, the Java side runs in this JVM
 * ({@link EnginePatternRun}).
 */
@Command(name = "compare", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Java engine vs the C baseline straight over libfabric, same provider and write pattern.",
                "Per size and round: one C run (a child process) and one Java run, back to back, the order "
                        + "alternating between rounds. A run: warm-up writes, then the timed writes of one size "
                        + "with a window in flight, done when every write completed at the writer and the target "
                        + "counted every imm."})
public final class CompareCommand implements Callable<Integer> {

    /** The providers both sides can run: the C baseline has no FI_RX_CQ_DATA receives (efa would need them). */
    enum CompareProvider {
        SHM(ProviderChoice.SHM), TCP(ProviderChoice.TCP);

        final ProviderChoice choice;

        CompareProvider(ProviderChoice choice) {
            this.choice = choice;
        }
    }

    @Option(names = "--provider", paramLabel = "NAME", defaultValue = "shm",
            description = "shm or tcp (tcp is tcp;ofi_rxm on 127.0.0.1) (default: ${DEFAULT-VALUE}).")
    CompareProvider provider = CompareProvider.SHM;

    @Option(names = "--sizes", paramLabel = "LIST", defaultValue = "64,64K,1M,16M",
            description = "Write sizes (default: ${DEFAULT-VALUE}).")
    String sizes = "64,64K,1M,16M";

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "3",
            description = "Rounds; each measures every size once on both sides (default: ${DEFAULT-VALUE}).")
    int rounds = 3;

    @Option(names = "--window", paramLabel = "N", defaultValue = "64",
            description = "Writes in flight, 1..1024 (default: ${DEFAULT-VALUE}).")
    int window = 64;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "200",
            description = "Untimed writes before each timed run (default: ${DEFAULT-VALUE}); capped by --bytes-per-row / 4.")
    int warmup = 200;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "5000",
            description = "Timed writes per run (default: ${DEFAULT-VALUE}); capped by --bytes-per-row, at least 16.")
    int iterations = 5000;

    @Option(names = "--jit-warmup", paramLabel = "N", defaultValue = "400000",
            description = "Untimed Java writes of every size before the first round, so no round is timed while the "
                    + "JIT compiles the hot path (default: ${DEFAULT-VALUE}); at least 2,000 or the row's writes if "
                    + "fewer, at most --bytes-per-row / 4.")
    int jitWarmup = 400_000;

    @Option(names = "--bytes-per-row", paramLabel = "BYTES", defaultValue = "2G",
            description = "Bytes one timed run moves at most (default: ${DEFAULT-VALUE}).")
    String bytesPerRow = "2G";

    @Option(names = "--idle", paramLabel = "STRATEGY", defaultValue = "backoff",
            description = "The Java engines' worker idle strategy: backoff, spin or yield (default: ${DEFAULT-VALUE}).")
    IdleChoice idle = IdleChoice.BACKOFF;

    /**
     * transfer-efa's FI_HMEM switch ({@code LibfabricOptions.HMEM}, named here by value so this compiles against
     * engines without it): {@code auto} asks for FI_HMEM only on efa, so never for the providers compare runs.
     * An engine that predates the option ignores it and asks for FI_HMEM first; compare them with
     * {@code --provider-option libfabric.hmem=true}.
     */
    static final String HMEM_OPTION = "libfabric.hmem";

    /** How the C baseline's two threads idle between CQ polls that found nothing. */
    enum BaselineIdle { SPIN, YIELD }

    @Option(names = "--baseline-idle", paramLabel = "MODE", defaultValue = "yield",
            description = "The C baseline's threads after 100 empty CQ polls in a row: spin on, or yield the core "
                    + "(fi_write_bench -y; like the engine's back-off, and the only sane choice with fewer free "
                    + "cores than its two threads) (default: ${DEFAULT-VALUE}).")
    BaselineIdle baselineIdle = BaselineIdle.YIELD;

    @Option(names = "--provider-option", paramLabel = "KEY=VALUE",
            description = "Option for the Java engines (repeatable). libfabric.deliveryComplete=true|false also "
                    + "decides the C side's -D (default: on for tcp, off for shm, as the engine's auto); "
                    + "libfabric.hmem=true|false the C side's -H (default false, as the engine's auto off efa).")
    Map<String, String> providerOptions = new LinkedHashMap<>();

    @Option(names = "--threading", paramLabel = "MODE", defaultValue = "dedicated",
            description = "How the Java engines run: dedicated (a worker thread per engine, the default; the bench "
                    + "thread submits, the writer's worker posts and polls) or invoker (no worker threads: the bench "
                    + "thread submits and drives the writer, one more thread drives the target, as the C baseline's "
                    + "two threads do).")
    String threading = "dedicated";

    @Option(names = "--baseline-source", paramLabel = "FILE",
            description = "fi_write_bench.c (default: benchmarks/native/ or native/ under the working directory). "
                    + "Built with gcc into the module's target/ when the binary is older than the source.")
    Path baselineSource;

    @Option(names = "--baseline-binary", paramLabel = "FILE",
            description = "A prebuilt fi_write_bench to run as is: never rebuilt, no compiler or libfabric headers "
                    + "needed (for machines with libfabric but without libfabric-dev). Wins over --baseline-source.")
    Path baselineBinary;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "120",
            description = "Longest a single run (either side) may take (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds = 120;

    @Option(names = "--no-imm", description = "Writes without imm on both sides (C: fi_write_bench -I, no "
            + "FI_REMOTE_CQ_DATA); a run ends when every write completed at the writer. On shm this compares the "
            + "engine's key-checked path with libfabric's unchecked fast path (docs/reliability.md).")
    boolean noImm;

    @Option(names = "--json", description = "Print the results as JSON on stdout instead of a table.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<Long> sizeList = ByteSize.parseList(sizes);
        long perRow = ByteSize.parse(bytesPerRow);
        if (jitWarmup < 0) {
            throw new IllegalArgumentException("--jit-warmup must be >= 0, got " + jitWarmup);
        }
        if (rounds < 1 || window < 1 || window > 1024 || warmup < 0 || iterations < 1 || perRow < 1
                || timeoutSeconds < 1) {
            throw new IllegalArgumentException("need --rounds >= 1, --window 1..1024, --warmup >= 0, "
                    + "--iterations >= 1, --bytes-per-row > 0, --timeout >= 1");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Map<String, String> javaOptions = provider.choice.options(providerOptions);
        boolean deliveryComplete = flag(LibfabricOptions.DELIVERY_COMPLETE, javaOptions.get(LibfabricOptions.DELIVERY_COMPLETE),
                provider == CompareProvider.TCP);
        boolean hmem = flag(HMEM_OPTION, javaOptions.get(HMEM_OPTION), false);
        // Both sides get the same answers explicitly, whatever the engine's automatic choices would be.
        javaOptions.put(LibfabricOptions.DELIVERY_COMPLETE, Boolean.toString(deliveryComplete));
        javaOptions.put(HMEM_OPTION, Boolean.toString(hmem));
        String libfabricProvider = javaOptions.get(LibfabricOptions.PROVIDER);
        String node = javaOptions.get(LibfabricOptions.NODE);
        Duration timeout = Duration.ofSeconds(timeoutSeconds);
        boolean yields = baselineIdle == BaselineIdle.YIELD;
        NativeBaseline.Settings cSettings = new NativeBaseline.Settings(libfabricProvider, node, deliveryComplete, hmem,
                yields, noImm);

        // Both sides on one libfabric: when the engine is pointed at a library (--provider-option libfabric.library,
        // -Dte.libfabric.library, as the GPU kit's launcher does), the baseline gets it through LD_PRELOAD.
        Map<String, String> cEnvironment = NativeBaseline.environmentFor(javaOptions);
        NativeBaseline baseline = baselineBinary != null ? NativeBaseline.prebuilt(baselineBinary)
                : NativeBaseline.prepare(NativeBaseline.findSource(baselineSource), NativeBaseline.COMPILER, err);
        ThreadingMode threadingMode = switch (threading) {
            case "dedicated" -> ThreadingMode.DEDICATED;
            case "invoker" -> ThreadingMode.INVOKER;
            default -> throw new IllegalArgumentException("--threading must be dedicated or invoker, got '"
                    + threading + "'");
        };
        EnginePatternRun java = new EnginePatternRun(engineOptions(javaOptions), !noImm, threadingMode);

        int[] iters = new int[sizeList.size()];
        int[] warm = new int[sizeList.size()];
        for (int i = 0; i < iters.length; i++) {
            long size = sizeList.get(i);
            iters[i] = (int) Math.max(Math.min(iterations, SweepPlan.MIN_ITERATIONS), Math.min(iterations, perRow / size));
            warm[i] = (int) Math.min(warmup, Math.max(Math.min(warmup, 1), perRow / 4 / size));
        }
        // JIT: the Java code is interpreted at first; one untimed run per size compiles the hot loops. The C
        // binary needs nothing of the kind. 2,000 writes were too few: the 64 B rows of 5,000 writes were then
        // timed while C2 was still compiling (docs/benchmark-results.md, "compare's JIT warm-up").
        for (int i = 0; i < iters.length; i++) {
            java.measure(sizeList.get(i), warm[i], jitWarmupFor(sizeList.get(i), iters[i], perRow), window);
        }
        List<List<RateSample>> cSamples = new ArrayList<>();
        List<List<RateSample>> javaSamples = new ArrayList<>();
        for (int i = 0; i < iters.length; i++) {
            cSamples.add(new ArrayList<>());
            javaSamples.add(new ArrayList<>());
        }
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < iters.length; i++) {
                long size = sizeList.get(i);
                int w = warm[i];
                int n = iters[i];
                Supplier<RateSample> cRun = () -> baseline.run(cSettings, size, w, n, window, timeout, cEnvironment);
                Supplier<RateSample> javaRun = () -> java.measure(size, w, n, window);
                RateSample c;
                RateSample j;
                if (round % 2 == 0) {
                    c = cRun.get();
                    j = javaRun.get();
                } else {
                    j = javaRun.get();
                    c = cRun.get();
                }
                cSamples.get(i).add(c);
                javaSamples.get(i).add(j);
                err.printf(Locale.ROOT, "round %d/%d %-8s C %9.3f Gbps %9.4f Mops/s | Java %9.3f Gbps %9.4f Mops/s%n",
                        round + 1, rounds, ByteSize.format(size), c.gbps(), c.mops(), j.gbps(), j.mops());
                err.flush();
            }
        }
        List<CompareRow> rows = new ArrayList<>();
        for (int i = 0; i < iters.length; i++) {
            rows.add(new CompareRow(sizeList.get(i), iters[i], cSamples.get(i), javaSamples.get(i)));
        }
        CompareReport.Header header = new CompareReport.Header(provider.choice.cliName(), libfabricProvider, node,
                deliveryComplete, hmem, window, warmup, rounds, threadingMode == ThreadingMode.INVOKER
                        ? "invoker threads (spin, then yield)" : idle.name().toLowerCase(Locale.ROOT),
                (cEnvironment.isEmpty() ? "" : "LD_PRELOAD=" + cEnvironment.get("LD_PRELOAD") + " ") + baseline.binary()
                        + " " + String.join(" ", cSettings.flags()), javaOptions, Runtime.version().toString());
        if (json) {
            CompareReport.json(out, header, rows);
        } else {
            CompareReport.table(out, header, rows);
        }
        return 0;
    }

    /**
     * A true/false libfabric option as both sides will use it: {@code explicit} when given, else the engine's
     * automatic choice for the providers compare runs ({@code automatic}).
     */
    static boolean flag(String key, String explicit, boolean automatic) {
        String v = explicit == null ? "auto" : explicit.trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "true" -> true;
            case "false" -> false;
            case "auto" -> automatic;
            default -> throw new IllegalArgumentException(key + " must be true, false or auto, got " + explicit);
        };
    }

    private EngineOptions engineOptions(Map<String, String> javaOptions) {
        EngineOptions e = new EngineOptions();
        e.provider = provider.choice;
        e.nicsPerGpu = 1;
        e.idle = idle;
        e.timeoutSeconds = timeoutSeconds;
        e.providerOptions = new LinkedHashMap<>(javaOptions);
        return e;
    }

    /** Untimed Java writes of {@code size} before the first round: --jit-warmup within a quarter of the row's bytes,
     *  but never fewer than the 2,000 (or the row's writes, if fewer) this command always ran. */
    int jitWarmupFor(long size, int rowWrites, long perRow) {
        long byBytes = perRow / 4 / size;
        return (int) Math.max(Math.min(rowWrites, 2000), Math.min(jitWarmup, byBytes));
    }
}
