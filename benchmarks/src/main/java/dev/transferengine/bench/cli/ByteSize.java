package dev.transferengine.bench.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses and prints byte counts the way the command line uses them: {@code 64}, {@code 4K}, {@code 4KiB},
 * {@code 1M}, {@code 64MiB}, {@code 2G} (binary units only: 1K = 1024), and ranges of powers of two
 * {@code 1K-64M}. Stateless.
 */
public final class ByteSize {
    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB"};

    private ByteSize() {
    }

    /** Parses one size; throws {@link IllegalArgumentException} with a readable message. */
    public static long parse(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) {
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("B") && s.length() > 1 && !Character.isDigit(s.charAt(s.length() - 2))) {
            s = s.substring(0, s.length() - 1);     // "KB" -> "K"; a bare "B" suffix is handled below
        }
        int shift = 0;
        char last = s.isEmpty() ? ' ' : s.charAt(s.length() - 1);
        switch (last) {
            case 'K' -> shift = 10;
            case 'M' -> shift = 20;
            case 'G' -> shift = 30;
            case 'T' -> shift = 40;
            case 'B' -> shift = 0;
            default -> last = ' ';
        }
        String digits = last == ' ' ? s : s.substring(0, s.length() - 1);
        long value;
        try {
            value = Long.parseLong(digits.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a byte size: '" + text + "' (examples: 64, 4K, 1MiB, 2G)");
        }
        if (value < 0 || (shift > 0 && value > (Long.MAX_VALUE >> shift))) {
            throw new IllegalArgumentException("byte size out of range: '" + text + "'");
        }
        return value << shift;
    }

    /**
     * Parses a comma-separated list of sizes and power-of-two ranges: {@code "1K-64M"} is 1K, 2K, 4K ... 64M;
     * {@code "64,4K,1M"} is those three. Order is kept; every size must be positive.
     */
    public static List<Long> parseList(String text) {
        List<Long> out = new ArrayList<>();
        for (String part : text.split(",")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            int dash = p.indexOf('-', 1);
            if (dash > 0) {
                long from = parse(p.substring(0, dash));
                long to = parse(p.substring(dash + 1));
                if (from <= 0 || to < from) {
                    throw new IllegalArgumentException("bad size range '" + p + "': need 0 < from <= to");
                }
                for (long v = from; v <= to && v > 0; v <<= 1) {
                    out.add(v);
                }
            } else {
                long v = parse(p);
                if (v <= 0) {
                    throw new IllegalArgumentException("sizes must be positive, got '" + p + "'");
                }
                out.add(v);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("empty size list '" + text + "'");
        }
        return List.copyOf(out);
    }

    /** "64 B", "4 KiB", "1.5 MiB": exact binary units print without decimals. */
    public static String format(long bytes) {
        int unit = 0;
        double v = bytes;
        while (v >= 1024 && unit < UNITS.length - 1) {
            v /= 1024;
            unit++;
        }
        if (v == Math.rint(v)) {
            return (long) v + " " + UNITS[unit];
        }
        return String.format(Locale.ROOT, "%.1f %s", v, UNITS[unit]);
    }
}
