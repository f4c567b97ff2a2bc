package dev.transferengine.bench.report;

import dev.transferengine.bench.cases.RateSample;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A {@code compare} row: medians of the rounds' samples, and the median of the per-round Java / C ratios. */
class CompareRowTest {

    @Test
    void rowTakesMediansAndTheMedianOfPerRoundRatios() {
        // Round ratios (Java / C by time): 0.5, 2.0, 1.0 -> median 1.0, though the median times give 1.0 too.
        List<RateSample> c = List.of(new RateSample(1000, 100, 1.0), new RateSample(1000, 100, 4.0),
                new RateSample(1000, 100, 2.0));
        List<RateSample> java = List.of(new RateSample(1000, 100, 2.0), new RateSample(1000, 100, 2.0),
                new RateSample(1000, 100, 2.0));
        CompareRow row = new CompareRow(1000, 100, c, java);
        assertEquals(List.of(0.5, 2.0, 1.0), row.roundRatios());
        assertEquals(1.0, row.ratio(), 1e-12);
        assertEquals(1000 * 100 * 8 / 2.0 / 1e9, row.cGbps(), 1e-12);
        assertEquals(100 / 2.0 / 1e6, row.javaMops(), 1e-12);
        assertEquals(2.5, CompareRow.median(new double[] {4, 1, 2, 3}), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new CompareRow(1000, 100, c, java.subList(0, 2)));
    }
}
