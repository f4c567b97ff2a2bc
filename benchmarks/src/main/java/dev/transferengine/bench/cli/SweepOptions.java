package dev.transferengine.bench.cli;

import dev.transferengine.bench.cases.SweepPlan;
import dev.transferengine.bench.report.Terminal;
import picocli.CommandLine.Option;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Command-line options that describe a sweep: what to write, how often, how many in flight (picocli mixin). */
public final class SweepOptions {

    /** The sweeps this tool knows. */
    public enum Sweep { SINGLE, PAGED }

    /** What "this write is done" means for latency and for the window. */
    public enum Completion {
        /** The receiver counted the write's imms: the data is in the target memory. */
        IMM,
        /** The sender's completion: the source buffer may be reused; the data may not have landed yet. */
        LOCAL
    }

    @Option(names = "--sweep", split = ",", paramLabel = "KIND", defaultValue = "single,paged",
            description = "Sweeps to run: single, paged (default: ${DEFAULT-VALUE}).")
    Set<Sweep> sweeps = EnumSet.of(Sweep.SINGLE, Sweep.PAGED);

    @Option(names = "--sizes", paramLabel = "LIST", defaultValue = "1K-64M",
            description = "Single-write sizes: comma-separated sizes and power-of-two ranges (default: ${DEFAULT-VALUE}).")
    String sizes = "1K-64M";

    @Option(names = "--page-sizes", paramLabel = "LIST", defaultValue = "1K,4K,16K,64K",
            description = "Paged-write page lengths (default: ${DEFAULT-VALUE}).")
    String pageSizes = "1K,4K,16K,64K";

    @Option(names = "--page-counts", split = ",", paramLabel = "N", defaultValue = "16,256",
            description = "Pages per paged write (default: ${DEFAULT-VALUE}).")
    List<Integer> pageCounts = List.of(16, 256);

    @Option(names = "--window", paramLabel = "N", defaultValue = "16",
            description = "Writes in flight (default: ${DEFAULT-VALUE}); capped per size by --max-inflight.")
    int window = 16;

    @Option(names = "--max-inflight", paramLabel = "BYTES", defaultValue = "256M",
            description = "Upper bound on bytes in flight, which caps the window of large writes (default: ${DEFAULT-VALUE}).")
    String maxInflight = "256M";

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "200",
            description = "Untimed writes before each measurement (default: ${DEFAULT-VALUE}); capped by --bytes-per-case / 4.")
    int warmup = 200;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "2000",
            description = "Timed writes per size (default: ${DEFAULT-VALUE}); capped by --bytes-per-case, at least 16.")
    int iterations = 2000;

    @Option(names = "--bytes-per-case", paramLabel = "BYTES", defaultValue = "2G",
            description = "Bytes moved per size at most, so large sizes do not take minutes (default: ${DEFAULT-VALUE}).")
    String bytesPerCase = "2G";

    @Option(names = "--completion", paramLabel = "MODE", defaultValue = "imm",
            description = "What 'done' means: imm (receiver counted the imms: data landed) or local "
                    + "(sender completion: source reusable) (default: ${DEFAULT-VALUE}).")
    Completion completion = Completion.IMM;

    @Option(names = "--verify", description = "Check the written bytes after every size (slower; not timed).")
    boolean verify;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42",
            description = "Seed of the source data and page permutations (default: ${DEFAULT-VALUE}).")
    long seed = 42;

    @Option(names = "--json", description = "Print the results as JSON on stdout instead of a table.")
    boolean json;

    @Option(names = "--progress", negatable = true,
            description = "Progress bar on stderr (default: only when stderr is a terminal).")
    Boolean progress;

    /** Validated, parsed view of these options. */
    public SweepPlan plan() {
        if (window < 1) {
            throw new IllegalArgumentException("--window must be >= 1, got " + window);
        }
        if (warmup < 0 || iterations < 1) {
            throw new IllegalArgumentException("--warmup must be >= 0 and --iterations >= 1");
        }
        for (int count : pageCounts) {
            if (count < 1) {
                throw new IllegalArgumentException("--page-counts must be >= 1, got " + count);
            }
        }
        if (sweeps.isEmpty()) {
            throw new IllegalArgumentException("--sweep needs at least one of single, paged");
        }
        long inflight = ByteSize.parse(maxInflight);
        long perCase = ByteSize.parse(bytesPerCase);
        if (inflight < 1 || perCase < 1) {
            throw new IllegalArgumentException("--max-inflight and --bytes-per-case must be positive");
        }
        return new SweepPlan(EnumSet.copyOf(sweeps), ByteSize.parseList(sizes), ByteSize.parseList(pageSizes),
                List.copyOf(pageCounts), window, inflight, warmup, iterations, perCase, completion, verify, seed);
    }

    public boolean json() {
        return json;
    }

    /** Whether to draw a progress bar: {@code --[no-]progress} if given, else whether stderr is a terminal. */
    public boolean progress() {
        return progress != null ? progress : Terminal.stderrIsTerminal();
    }
}
