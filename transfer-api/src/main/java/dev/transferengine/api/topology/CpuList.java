package dev.transferengine.api.topology;

import dev.transferengine.api.InvalidRequestException;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * The kernel's CPU list format ({@code "0-47,96-143"}), as in {@code /sys/devices/system/node/node0/cpulist}:
 * comma-separated CPU numbers and inclusive ranges. Stateless; thread-safe.
 */
public final class CpuList {
    private CpuList() {
    }

    /**
     * The CPUs {@code text} names, ascending and without duplicates. Blank text is the empty list.
     *
     * @throws InvalidRequestException for anything else than numbers, ranges {@code a-b} with
     *                                 {@code a <= b}, and commas
     */
    public static List<Integer> parse(String text) {
        TreeSet<Integer> cpus = new TreeSet<>();
        String trimmed = text.strip();
        if (trimmed.isEmpty()) {
            return List.of();
        }
        for (String part : trimmed.split(",")) {
            int dash = part.indexOf('-');
            int first = number(dash < 0 ? part : part.substring(0, dash), text);
            int last = dash < 0 ? first : number(part.substring(dash + 1), text);
            if (last < first) {
                throw new InvalidRequestException("CPU range '" + part + "' runs backwards in '" + text + "'");
            }
            for (int cpu = first; cpu <= last; cpu++) {
                cpus.add(cpu);
            }
        }
        return List.copyOf(cpus);
    }

    /** {@code cpus} in the kernel's format, ranges collapsed: {@code [0,1,2,5]} gives {@code "0-2,5"}. */
    public static String format(Collection<Integer> cpus) {
        List<Integer> sorted = new ArrayList<>(new TreeSet<>(cpus));
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < sorted.size(); ) {
            int j = i;
            while (j + 1 < sorted.size() && sorted.get(j + 1) == sorted.get(j) + 1) {
                j++;
            }
            if (!out.isEmpty()) {
                out.append(',');
            }
            out.append(sorted.get(i));
            if (j > i) {
                out.append('-').append(sorted.get(j));
            }
            i = j + 1;
        }
        return out.toString();
    }

    private static int number(String s, String text) {
        String t = s.strip();
        if (t.isEmpty() || t.length() > 7 || !t.chars().allMatch(Character::isDigit)) {
            throw new InvalidRequestException("'" + s + "' is not a CPU number in CPU list '" + text + "'");
        }
        return Integer.parseInt(t);
    }
}
