package dev.transferengine.core.loopback;

import dev.transferengine.core.device.StripedCopyQueue;
import dev.transferengine.spi.ProviderOptions;

import static dev.transferengine.core.LoopbackOptions.*;

import java.util.Map;
import java.util.Set;

/**
 * The loopback provider's switches (keys: {@link dev.transferengine.core.LoopbackOptions}), parsed once from the
 * options map given to
 * {@link LoopbackProvider#open}. A key missing from the map falls back to the system property
 * {@code te.<key>} (so a whole test run can be switched to reorder mode from the command line), then to
 * the default. Unknown {@code loopback.*} keys and malformed values are rejected, because a misspelt
 * fault-injection switch that silently does nothing would make a test prove nothing.
 *
 * @param reorder         apply pending operations and deliver inbound events in random order
 * @param seed            seed of the generator behind {@code reorder}
 * @param delayNanos      apply an operation no earlier than this long after it was posted
 * @param failEveryNth    every Nth posted WRITE fails with an injected PROVIDER error; 0 = never
 * @param queueDepth      operations (writes, sends, receives) outstanding per domain before posts say RETRY
 * @param maxMessageBytes the largest single WRITE or SEND a domain advertises
 * @param deviceMemory    whether domains register device (GPU) memory themselves (copies on the device's
 *                        stream); false makes them host-only, so the engine stages device memory (tests of
 *                        the staging path)
 * @param unkeyedZeroLength whether zero-length writes skip the key, permission and bounds checks and deliver
 *                        their imm anyway, as InfiniBand lets a responder do (so the engine's handling of that
 *                        looseness is tested without a NIC); false: every write is checked
 * @param copyStreams     CUDA streams per device for device-memory copies (striped, see StripedCopyQueue)
 * @param silentPeers     operations to a closed peer never complete (a black hole) instead of failing at once
 * @param coalesceCopies  back-to-back contiguous device copies go out as one launch (CoalescingCopyQueue)
 */
public record LoopbackSettings(boolean reorder, long seed, long delayNanos, long failEveryNth, int queueDepth,
                              long maxMessageBytes, boolean deviceMemory, boolean unkeyedZeroLength,
                              int copyStreams, boolean silentPeers, boolean coalesceCopies) {

    private static final Set<String> KEYS =
            Set.of(REORDER, SEED, DELAY_NANOS, FAIL_EVERY_NTH, QUEUE_DEPTH, MAX_MESSAGE_BYTES, DEVICE_MEMORY,
                    UNKEYED_ZERO_LENGTH, COPY_STREAMS, SILENT_PEERS, COALESCE_COPIES);

    public static final long DEFAULT_SEED = 0x5EED_2026L;
    public static final int DEFAULT_QUEUE_DEPTH = 1024;
    /** Bounds the preallocated per-domain rings (a few tens of MiB at most). */
    public static final int MAX_QUEUE_DEPTH = 1 << 20;
    public static final long DEFAULT_MAX_MESSAGE_BYTES = 1L << 30;

    public LoopbackSettings {
        ProviderOptions.checkRange(DELAY_NANOS, delayNanos, 0, Long.MAX_VALUE);
        ProviderOptions.checkRange(FAIL_EVERY_NTH, failEveryNth, 0, Long.MAX_VALUE);
        ProviderOptions.checkRange(QUEUE_DEPTH, queueDepth, 1, MAX_QUEUE_DEPTH);
        ProviderOptions.checkRange(MAX_MESSAGE_BYTES, maxMessageBytes, 1, Long.MAX_VALUE);
        ProviderOptions.checkRange(COPY_STREAMS, copyStreams, 1, StripedCopyQueue.MAX_STREAMS);
    }

    /** All defaults: in order, no delay, no injected failures. */
    public static LoopbackSettings defaults() {
        return parse(Map.of());
    }

    /**
     * Parses {@code options}; keys outside {@code loopback.*} belong to others and are ignored. Ranges are checked
     * by the constructor (0 = never for {@code failEveryNth}).
     */
    public static LoopbackSettings parse(Map<String, String> options) {
        ProviderOptions o = new ProviderOptions("loopback", options, KEYS);
        return new LoopbackSettings(
                o.bool(REORDER, false),
                o.longValue(SEED, DEFAULT_SEED, Long.MIN_VALUE, Long.MAX_VALUE),
                o.longValue(DELAY_NANOS, 0, Long.MIN_VALUE, Long.MAX_VALUE),
                o.longValue(FAIL_EVERY_NTH, 0, Long.MIN_VALUE, Long.MAX_VALUE),
                o.intValue(QUEUE_DEPTH, DEFAULT_QUEUE_DEPTH, 1, MAX_QUEUE_DEPTH),
                o.longValue(MAX_MESSAGE_BYTES, DEFAULT_MAX_MESSAGE_BYTES, Long.MIN_VALUE, Long.MAX_VALUE),
                o.bool(DEVICE_MEMORY, true),
                o.bool(UNKEYED_ZERO_LENGTH, false),
                o.intValue(COPY_STREAMS, StripedCopyQueue.DEFAULT_STREAMS, 1, StripedCopyQueue.MAX_STREAMS),
                o.bool(SILENT_PEERS, false),
                o.bool(COALESCE_COPIES, true));
    }
}
