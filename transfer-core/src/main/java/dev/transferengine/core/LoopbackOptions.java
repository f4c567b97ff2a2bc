package dev.transferengine.core;

/**
 * The loopback provider's option keys ({@code TransferEngine.Builder.providerOption(key, value)}, or the system
 * property {@code te.<key>}): fault injection and modelling switches for tests. An unknown {@code loopback.*} key is
 * rejected when the engine is built, with the list of the known ones. docs/loopback.md describes each.
 */
public final class LoopbackOptions {
    /** Apply pending operations and deliver inbound events in random order (default false). */
    public static final String REORDER = "loopback.reorder";

    /** Seed of the generator behind {@link #REORDER}. */
    public static final String SEED = "loopback.seed";

    /** Apply an operation no earlier than this long after it was posted (default 0). */
    public static final String DELAY_NANOS = "loopback.delayNanos";

    /** Every Nth posted WRITE fails with an injected PROVIDER error; 0 (default) = never. */
    public static final String FAIL_EVERY_NTH = "loopback.failEveryNth";

    /** Operations outstanding per domain before posts say RETRY (default 1024). */
    public static final String QUEUE_DEPTH = "loopback.queueDepth";

    /** The largest single WRITE or SEND a domain advertises (default 1 GiB). */
    public static final String MAX_MESSAGE_BYTES = "loopback.maxMessageBytes";

    /** Whether domains register GPU memory themselves (default true); false makes the engine stage it. */
    public static final String DEVICE_MEMORY = "loopback.deviceMemory";

    /** Zero-length writes skip the key checks and deliver their imm anyway, as InfiniBand allows (default false). */
    public static final String UNKEYED_ZERO_LENGTH = "loopback.unkeyedZeroLength";

    /**
     * CUDA streams per device that a domain's device-memory copies are dealt over (1..16); the engine sets it from
     * its {@code copyStreams} option unless given here.
     */
    public static final String COPY_STREAMS = "loopback.copyStreams";

    /**
     * Operations to a closed peer neither complete nor fail (default false: they fail at once with
     * PEER_UNREACHABLE): a killed process or a cut link that nobody reports, as libfabric shm and tcp can behave, so
     * the engine's deadlines are what ends them. Read by the writing domain.
     */
    public static final String SILENT_PEERS = "loopback.silentPeers";

    /**
     * Back-to-back writes whose device copies are contiguous on both sides (KV pages in order) go out as one copy
     * launch (default true); false: one launch per write, as before (measurements).
     */
    public static final String COALESCE_COPIES = "loopback.coalesceCopies";

    private LoopbackOptions() {
    }
}
