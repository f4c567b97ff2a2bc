package dev.transferengine.kits.weights;

/**
 * What one {@link WeightPusher#push} did and where its time went.
 *
 * @param tasks          parameters prepared
 * @param requests       submit calls (one per slice)
 * @param workRequests   NIC writes before NIC sharding (a paged slice counts one per row)
 * @param bytes          payload bytes written
 * @param submitNanos    time spent inside {@code submit} calls
 * @param maxSubmitNanos the longest single {@code submit} call
 * @param prepareNanos   time spent in the preparation callback
 * @param stallNanos     time spent waiting for staging memory (the watermark) or for the last writes
 * @param totalNanos     the whole push, first preparation to the last local completion
 * @param peakStagedBytes the most staging memory in use at once (never above the watermark)
 */
public record PushReport(int tasks, long requests, long workRequests, long bytes, long submitNanos, long maxSubmitNanos,
                         long prepareNanos,
                         long stallNanos, long totalNanos, long peakStagedBytes) {

    /** Mean cost of one submit call in microseconds (the reference reports 23 µs per call). */
    public double submitMicrosPerRequest() {
        return requests == 0 ? 0 : submitNanos / 1e3 / requests;
    }
}
