package dev.transferengine.bench.report;

import dev.transferengine.bench.cli.ByteSize;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * Prints results as an aligned table, one section per sweep, each row as soon as it is measured. The
 * {@code %link} column appears only when the provider reports a link speed.
 */
public final class TableReport implements ResultSink {
    private final PrintWriter out;
    private final ProgressBar progress;
    private boolean showLink;
    private String section;

    public TableReport(PrintWriter out, ProgressBar progress) {
        this.out = out;
        this.progress = progress;
    }

    @Override
    public void start(RunInfo info) {
        showLink = info.linkBitsPerSecond() > 0;
        progress.clear();
        out.printf(Locale.ROOT, "transfer-bench %s: provider %s (engine provider \"%s\"%s), %d group x %d NIC(s)%n",
                info.mode(), info.provider(), info.engineProvider(),
                info.providerOptions().isEmpty() ? "" : ", options " + info.providerOptions(),
                info.groups(), info.nicsPerGpu());
        out.printf(Locale.ROOT, "window %d (at most %s in flight), warm-up %d, iterations %d (at most %s per row)%s%n",
                info.window(), ByteSize.format(info.maxInflightBytes()), info.warmup(), info.iterations(),
                ByteSize.format(info.bytesPerCase()), info.verify() ? ", bytes verified" : "");
        out.printf(Locale.ROOT, "%s; link speed %s%n", info.completionMeaning(),
                showLink ? String.format(Locale.ROOT, "%.0f Gbps (as the provider reports it)", info.linkBitsPerSecond() / 1e9)
                        : "unknown");
        out.flush();
    }

    @Override
    public void row(CaseResult r) {
        progress.clear();
        if (!r.sweep().equals(section)) {
            section = r.sweep();
            out.println();
            out.println(section.equals("paged") ? "paged writes (one WRITE and imm per page)" : "single writes (sharded over all NICs)");
            out.printf(Locale.ROOT, "%-14s %6s %9s%s %10s %9s %9s %9s%n", section.equals("paged") ? "page x count" : "size",
                    "window", "Gbps", showLink ? String.format("%7s", "%link") : "", "Mops/s", "p50 us", "p99 us",
                    "p99.9 us");
        }
        out.printf(Locale.ROOT, "%-14s %6d %9.2f%s %10.6f %9.1f %9.1f %9.1f%n", r.label(), r.window(), r.gbps(),
                showLink ? String.format(Locale.ROOT, "%6.1f%%", r.linkPercent()) : "", r.mopsPerSecond(),
                r.p50Micros(), r.p99Micros(), r.p999Micros());
        out.flush();
    }

    @Override
    public void finish() {
        progress.clear();
        out.flush();
    }
}
