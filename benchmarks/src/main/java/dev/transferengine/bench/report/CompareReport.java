package dev.transferengine.bench.report;

import dev.transferengine.bench.cases.RateSample;
import dev.transferengine.bench.cli.ByteSize;
import com.google.gson.GsonBuilder;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Prints a {@code compare} run as an aligned table or as one JSON document. Used by one thread. */
public final class CompareReport {
    /**
     * What was compared, printed above the table and as the JSON header. Immutable.
     *
     * @param libfabricProvider the libfabric provider both sides asked fi_getinfo for
     * @param node              the node both bound to, or null
     * @param deliveryComplete  whether both sides' writes carried FI_DELIVERY_COMPLETE
     * @param hmem              whether both sides asked fi_getinfo for FI_HMEM first
     * @param javaOptions       every provider option the Java engines got
     */
    public record Header(String provider, String libfabricProvider, String node, boolean deliveryComplete,
                         boolean hmem, int window, int warmup, int rounds, String idle, String baseline,
                         Map<String, String> javaOptions, String javaVersion) {
    }

    /** A row as JSON: the medians next to the samples they came from. */
    private record Summary(long bytes, int iterations, double cGbps, double javaGbps, double ratio,
                           List<Double> roundRatios, double cMops, double javaMops, List<RateSample> c,
                           List<RateSample> java) {
        Summary(CompareRow r) {
            this(r.bytes(), r.iterations(), r.cGbps(), r.javaGbps(), r.ratio(), r.roundRatios(), r.cMops(),
                    r.javaMops(), r.c(), r.java());
        }
    }

    private record Document(Header run, List<Summary> results) {
    }

    private CompareReport() {
    }

    public static void table(PrintWriter out, Header h, List<CompareRow> rows) {
        out.printf(Locale.ROOT, "transfer-bench compare: provider %s (libfabric '%s'%s), delivery-complete %s, "
                        + "FI_HMEM %s, on both sides%n", h.provider(), h.libfabricProvider(),
                h.node() == null ? "" : " on " + h.node(), h.deliveryComplete() ? "on" : "off",
                h.hmem() ? "asked first" : "not asked");
        out.printf(Locale.ROOT, "window %d, warm-up %d, %d round(s), order alternating; Java idle %s; C: %s%n",
                h.window(), h.warmup(), h.rounds(), h.idle(), h.baseline());
        out.println("Gbps and Mops/s: medians of the rounds; Java/C: median of the rounds' ratios (min-max)");
        out.println();
        out.printf(Locale.ROOT, "%-9s %6s %9s %9s %7s %13s %10s %11s%n", "size", "iters", "C Gbps", "Java Gbps",
                "Java/C", "(min-max)", "C Mops/s", "Java Mops/s");
        for (CompareRow r : rows) {
            List<Double> ratios = r.roundRatios();
            double min = ratios.stream().mapToDouble(Double::doubleValue).min().orElse(0);
            double max = ratios.stream().mapToDouble(Double::doubleValue).max().orElse(0);
            out.printf(Locale.ROOT, "%-9s %6d %9.3f %9.3f %7.2f %13s %10.4f %11.4f%n", ByteSize.format(r.bytes()),
                    r.iterations(), r.cGbps(), r.javaGbps(), r.ratio(),
                    String.format(Locale.ROOT, "(%.2f-%.2f)", min, max), r.cMops(), r.javaMops());
        }
        out.flush();
    }

    public static void json(PrintWriter out, Header h, List<CompareRow> rows) {
        out.println(new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create()
                .toJson(new Document(h, rows.stream().map(Summary::new).toList())));
        out.flush();
    }
}
