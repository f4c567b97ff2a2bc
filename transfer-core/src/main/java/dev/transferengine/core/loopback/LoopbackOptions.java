package dev.transferengine.core.loopback;

import dev.transferengine.api.InvalidRequestException;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The loopback provider's switches, parsed once from the options map given to
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
 */
public record LoopbackOptions(boolean reorder, long seed, long delayNanos, long failEveryNth, int queueDepth,
                              long maxMessageBytes, boolean deviceMemory, boolean unkeyedZeroLength) {

    public static final String REORDER = "loopback.reorder";
    public static final String SEED = "loopback.seed";
    public static final String DELAY_NANOS = "loopback.delayNanos";
    public static final String FAIL_EVERY_NTH = "loopback.failEveryNth";
    public static final String QUEUE_DEPTH = "loopback.queueDepth";
    public static final String MAX_MESSAGE_BYTES = "loopback.maxMessageBytes";
    public static final String DEVICE_MEMORY = "loopback.deviceMemory";
    public static final String UNKEYED_ZERO_LENGTH = "loopback.unkeyedZeroLength";

    private static final Set<String> KEYS =
            Set.of(REORDER, SEED, DELAY_NANOS, FAIL_EVERY_NTH, QUEUE_DEPTH, MAX_MESSAGE_BYTES, DEVICE_MEMORY,
                    UNKEYED_ZERO_LENGTH);

    public static final long DEFAULT_SEED = 0x5EED_2026L;
    public static final int DEFAULT_QUEUE_DEPTH = 1024;
    /** Bounds the preallocated per-domain rings (a few tens of MiB at most). */
    public static final int MAX_QUEUE_DEPTH = 1 << 20;
    public static final long DEFAULT_MAX_MESSAGE_BYTES = 1L << 30;

    public LoopbackOptions {
        if (delayNanos < 0) {
            throw new InvalidRequestException(DELAY_NANOS + " must be >= 0, got " + delayNanos);
        }
        if (failEveryNth < 0) {
            throw new InvalidRequestException(FAIL_EVERY_NTH + " must be >= 0 (0 = never), got " + failEveryNth);
        }
        if (queueDepth < 1 || queueDepth > MAX_QUEUE_DEPTH) {
            throw new InvalidRequestException(QUEUE_DEPTH + " must be in 1.." + MAX_QUEUE_DEPTH + ", got " + queueDepth);
        }
        if (maxMessageBytes < 1) {
            throw new InvalidRequestException(MAX_MESSAGE_BYTES + " must be >= 1, got " + maxMessageBytes);
        }
    }

    /** All defaults: in order, no delay, no injected failures. */
    public static LoopbackOptions defaults() {
        return parse(Map.of());
    }

    /** Parses {@code options}; keys outside {@code loopback.*} belong to others and are ignored. */
    public static LoopbackOptions parse(Map<String, String> options) {
        for (String key : options.keySet()) {
            if (key.startsWith("loopback.") && !KEYS.contains(key)) {
                throw new InvalidRequestException("unknown loopback option '" + key + "'; known: " + KEYS);
            }
        }
        return new LoopbackOptions(
                bool(options, REORDER, false),
                number(options, SEED, DEFAULT_SEED),
                number(options, DELAY_NANOS, 0),
                number(options, FAIL_EVERY_NTH, 0),
                saturatedInt(number(options, QUEUE_DEPTH, DEFAULT_QUEUE_DEPTH)),
                number(options, MAX_MESSAGE_BYTES, DEFAULT_MAX_MESSAGE_BYTES),
                bool(options, DEVICE_MEMORY, true),
                bool(options, UNKEYED_ZERO_LENGTH, false));
    }

    /** Keeps out-of-range values out of range, so the constructor reports them instead of wrapping. */
    private static int saturatedInt(long value) {
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, value));
    }

    private static String raw(Map<String, String> options, String key) {
        String value = options.get(key);
        return value != null ? value.trim() : System.getProperty("te." + key);
    }

    private static boolean bool(Map<String, String> options, String key, boolean fallback) {
        String value = raw(options, key);
        if (value == null) {
            return fallback;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new InvalidRequestException(key + " must be true or false, got '" + value + "'");
        };
    }

    private static long number(Map<String, String> options, String key, long fallback) {
        String value = raw(options, key);
        if (value == null) {
            return fallback;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new InvalidRequestException(key + " must be an integer, got '" + value + "'");
        }
    }
}
