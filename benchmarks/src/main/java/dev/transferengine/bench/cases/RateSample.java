package dev.transferengine.bench.cases;

/**
 * One timed run of {@code ops} writes of {@code bytes} each: the unit both sides of {@code compare} report.
 * Immutable.
 *
 * @param bytes   payload bytes per write
 * @param ops     timed writes
 * @param seconds wall time from the first post (submit) until every write completed locally and every imm
 *                was counted by the target
 */
public record RateSample(long bytes, long ops, double seconds) {
    public RateSample {
        if (bytes < 0 || ops < 1 || !(seconds > 0)) {
            throw new IllegalArgumentException("bad sample: " + bytes + " B x " + ops + " in " + seconds + " s");
        }
    }

    /** Payload gigabits (10^9) per second. */
    public double gbps() {
        return bytes * (double) ops * 8 / seconds / 1e9;
    }

    /** Millions of writes per second. */
    public double mops() {
        return ops / seconds / 1e6;
    }
}
