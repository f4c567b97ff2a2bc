package dev.transferengine.bench.report;

import dev.transferengine.bench.cli.SweepOptions;

/**
 * The measurement of one sweep row. Immutable; field names are the JSON keys.
 *
 * @param sweep          "single" or "paged"
 * @param label          "4 KiB" or "4 KiB x 16"
 * @param bytesPerOp     payload bytes per request
 * @param writesPerOp    WRITEs per request (pages, or shards of a single write)
 * @param window         requests in flight
 * @param ops            timed requests
 * @param seconds        wall time of the timed requests, first submit to last completion
 * @param gbps           payload gigabits per second (10^9)
 * @param linkPercent    gbps as a percentage of the sender's link speed, or -1 when unknown
 * @param mopsPerSecond  millions of requests per second
 * @param p50Micros      median latency, submit to done (see {@link SweepOptions.Completion})
 * @param p99Micros      99th percentile latency
 * @param p999Micros     99.9th percentile latency
 * @param maxMicros      largest latency
 * @param verified       whether the bytes were checked (and matched: a mismatch stops the run)
 */
public record CaseResult(String sweep, String label, long bytesPerOp, long writesPerOp, int window, long ops,
                         double seconds, double gbps, double linkPercent, double mopsPerSecond, double p50Micros,
                         double p99Micros, double p999Micros, double maxMicros, boolean verified) {
}
