package dev.transferengine.bench.report;

import java.io.PrintWriter;

/**
 * A one-line progress bar on stderr: rows done of the sweep, the current row and its share done.
 * Redraws at most ten times a second, so calling {@link #update} from a timed loop costs a clock read.
 * A disabled bar does nothing. Used by the benchmark thread only.
 */
public final class ProgressBar {
    private static final long REDRAW_NANOS = 100_000_000;
    private static final int WIDTH = 30;

    private final PrintWriter out;
    private final boolean enabled;
    private final int rows;
    private int row;
    private String label = "";
    private long rowOps = 1;
    private long lastDraw;
    private boolean drawn;

    private ProgressBar(PrintWriter out, boolean enabled, int rows) {
        this.out = out;
        this.enabled = enabled;
        this.rows = rows;
    }

    public static ProgressBar on(PrintWriter out, int rows) {
        return new ProgressBar(out, true, rows);
    }

    public static ProgressBar off() {
        return new ProgressBar(null, false, 1);
    }

    /** A new row of {@code ops} requests begins. */
    public void startCase(String rowLabel, long ops) {
        if (!enabled) {
            return;
        }
        row++;
        label = rowLabel;
        rowOps = Math.max(1, ops);
        draw(0);
    }

    /** {@code done} requests of the current row are finished. */
    public void update(long done) {
        if (enabled && System.nanoTime() - lastDraw >= REDRAW_NANOS) {
            draw(done);
        }
    }

    /** Erases the bar, e.g. before a table row goes to the same terminal. */
    public void clear() {
        if (enabled && drawn) {
            out.print("\r\033[K");
            out.flush();
            drawn = false;
        }
    }

    private void draw(long done) {
        double rowShare = Math.min(1.0, (double) done / rowOps);
        double overall = (row - 1 + rowShare) / rows;
        int filled = (int) (overall * WIDTH);
        StringBuilder line = new StringBuilder(WIDTH + 64).append("\r\033[K[");
        for (int i = 0; i < WIDTH; i++) {
            line.append(i < filled ? '#' : '.');
        }
        line.append("] ").append(row).append('/').append(rows).append("  ").append(label)
                .append("  ").append((int) (rowShare * 100)).append('%');
        out.print(line);
        out.flush();
        drawn = true;
        lastDraw = System.nanoTime();
    }
}
