package dev.transferengine.bench.report;

import dev.transferengine.bench.cases.RateSample;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One size of a {@code compare} run: the C baseline's and the Java engine's samples, one of each per round,
 * and their medians. Immutable; field names are the JSON keys.
 *
 * @param bytes       write size
 * @param iterations  timed writes per sample (the same on both sides)
 * @param c           the C baseline's samples, in round order
 * @param java        the Java engine's samples, in round order
 */
public record CompareRow(long bytes, int iterations, List<RateSample> c, List<RateSample> java) {
    public CompareRow {
        c = List.copyOf(c);
        java = List.copyOf(java);
        if (c.size() != java.size() || c.isEmpty()) {
            throw new IllegalArgumentException("need one C and one Java sample per round");
        }
    }

    public double cGbps() {
        return median(c.stream().mapToDouble(RateSample::gbps).toArray());
    }

    public double javaGbps() {
        return median(java.stream().mapToDouble(RateSample::gbps).toArray());
    }

    public double cMops() {
        return median(c.stream().mapToDouble(RateSample::mops).toArray());
    }

    public double javaMops() {
        return median(java.stream().mapToDouble(RateSample::mops).toArray());
    }

    /** Java / C of each round: the two ran back to back, so each ratio saw about the same machine. */
    public List<Double> roundRatios() {
        List<Double> ratios = new ArrayList<>(c.size());
        for (int i = 0; i < c.size(); i++) {
            ratios.add(c.get(i).seconds() / java.get(i).seconds() * java.get(i).ops() / c.get(i).ops());
        }
        return ratios;
    }

    /** The median of the rounds' Java / C ratios: the row's verdict. */
    public double ratio() {
        return median(roundRatios().stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Median; the mean of the middle two for an even count. */
    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
