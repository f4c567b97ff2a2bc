package dev.transferengine.bench.report;

import dev.transferengine.api.Counter;
import dev.transferengine.api.EngineCounters;
import dev.transferengine.api.ErrorCategory;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Prints an engine's counters as a table: one row per counter, one column per group (per-NIC counters
 * summed, then one line per NIC), then the non-zero error categories. Used by {@code te stat} and at the end of
 * a bench run.
 */
public final class CountersReport {
    private CountersReport() {
    }

    public static void print(EngineCounters counters, PrintStream out) {
        int groups = counters.groups();
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "  %-22s", "counter"));
        for (int g = 0; g < groups; g++) {
            header.append(String.format(Locale.ROOT, " %16s", "group " + g));
        }
        out.println(header);
        for (Counter c : Counter.values()) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %-22s", name(c)));
            for (int g = 0; g < groups; g++) {
                row.append(String.format(Locale.ROOT, " %16d", counters.get(g, c)));
            }
            out.println(row);
            if (c.perNic()) {
                for (int g = 0; g < groups; g++) {
                    int nics = counters.nics(g);
                    if (nics < 2) {
                        continue;
                    }
                    StringBuilder perNic = new StringBuilder("      group " + g + " by NIC:");
                    for (int n = 0; n < nics; n++) {
                        perNic.append(' ').append(counters.get(g, n, c));
                    }
                    out.println(perNic);
                }
            }
        }
        for (ErrorCategory e : ErrorCategory.values()) {
            long total = counters.totalErrors(e);
            if (total == 0) {
                continue;
            }
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %-22s", "errors " + e.name()));
            for (int g = 0; g < groups; g++) {
                row.append(String.format(Locale.ROOT, " %16d", counters.errors(g, e)));
            }
            out.println(row);
        }
    }

    /** A one-line summary for the end of a bench run: retries and errors, the counters that explain a slow row. */
    public static String summary(EngineCounters counters) {
        StringBuilder s = new StringBuilder();
        s.append("writes posted ").append(counters.total(Counter.WRITES_POSTED))
                .append(", completed ").append(counters.total(Counter.WRITES_COMPLETED))
                .append(", post retries (queue full) ").append(counters.total(Counter.POST_RETRIES))
                .append(", transfers failed ").append(counters.total(Counter.TRANSFERS_FAILED))
                .append(", timed out ").append(counters.total(Counter.TRANSFER_TIMEOUTS));
        for (ErrorCategory e : ErrorCategory.values()) {
            long n = counters.totalErrors(e);
            if (n > 0) {
                s.append(", ").append(e.name()).append(' ').append(n);
            }
        }
        return s.toString();
    }

    private static String name(Counter c) {
        return c.name().toLowerCase(Locale.ROOT).replace('_', ' ');
    }
}
