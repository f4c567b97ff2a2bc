package dev.transferengine.api;

/**
 * What an engine counts ({@link EngineCounters}). Each counter is kept either per NIC or per group
 * ({@link #perNic()}); every counter only grows, except the two gauges ({@link #isGauge()}).
 */
public enum Counter {
    // ---- per NIC: what the worker asked of the provider and what came back
    /** Writes posted to the NIC (pieces and shards each count; a RETRY answer is not a post). */
    WRITES_POSTED(true, false),
    /** Payload bytes of the writes posted. */
    BYTES_POSTED(true, false),
    /** Writes and SENDs the NIC reported complete (a write the engine split or staged counts once). */
    WRITES_COMPLETED(true, false),
    /** Writes and SENDs the NIC reported failed. */
    WRITE_ERRORS(true, false),
    /** SENDs posted. */
    SENDS_POSTED(true, false),
    /** Posts the NIC refused for now (queue full: back-pressure; the worker posts again later). */
    POST_RETRIES(true, false),
    /** Imms that arrived through this NIC. */
    IMMS_RECEIVED(true, false),
    /** Messages received into posted receive buffers. */
    RECEIVES_COMPLETED(true, false),

    // ---- per group: transfers as the application sees them
    /** Requests the group's worker accepted (after validation). */
    TRANSFERS_SUBMITTED(false, false),
    /** Payload bytes of the accepted requests. */
    BYTES_SUBMITTED(false, false),
    /** Transfers that completed successfully. */
    TRANSFERS_COMPLETED(false, false),
    /** Transfers that failed (any category but {@link ErrorCategory#TIMEOUT}); see {@link EngineCounters#errors}. */
    TRANSFERS_FAILED(false, false),
    /** Transfers that failed because their deadline passed. */
    TRANSFER_TIMEOUTS(false, false),
    /** Gauge: transfers accepted and not yet finished. */
    TRANSFERS_IN_FLIGHT(false, true),
    /** Gauge: memory regions registered with the group. */
    OPEN_REGIONS(false, true);

    private final boolean perNic;
    private final boolean gauge;

    Counter(boolean perNic, boolean gauge) {
        this.perNic = perNic;
        this.gauge = gauge;
    }

    /** True for counters kept per NIC, false for counters kept per group. */
    public boolean perNic() {
        return perNic;
    }

    /** True for values that go up and down (a level), false for counts that only grow. */
    public boolean isGauge() {
        return gauge;
    }
}
