package dev.transferengine.spi;

import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.IdleStrategy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Everything {@link dev.transferengine.api.TransferEngine.Builder} collected, validated by the builder.
 *
 * @param deviceBackend the device (GPU) backend to use, or null to find one with {@link java.util.ServiceLoader}
 *                      ({@code transfer-cuda}) when a group names a CUDA device
 * @param watchdogBound how long a worker may go without completing a duty cycle before it is reported stuck;
 *                      {@link Duration#ZERO} disables the watchdog
 */
public record EngineConfig(String name, String provider, Map<String, String> providerOptions,
                           List<GroupSpec> groups, Supplier<IdleStrategy> idleStrategy, int requestQueueCapacity,
                           Duration transferTimeout, Duration operationTimeout, DeviceBackend deviceBackend,
                           Duration watchdogBound) {
    /** The watchdog bound when none is configured. */
    public static final Duration DEFAULT_WATCHDOG_BOUND = Duration.ofSeconds(10);

    public EngineConfig {
        providerOptions = Map.copyOf(providerOptions);
        groups = List.copyOf(groups);
        watchdogBound = watchdogBound == null ? DEFAULT_WATCHDOG_BOUND : watchdogBound;
    }

    /** A configuration with the default watchdog bound. */
    public EngineConfig(String name, String provider, Map<String, String> providerOptions, List<GroupSpec> groups,
                        Supplier<IdleStrategy> idleStrategy, int requestQueueCapacity, Duration transferTimeout,
                        Duration operationTimeout, DeviceBackend deviceBackend) {
        this(name, provider, providerOptions, groups, idleStrategy, requestQueueCapacity, transferTimeout,
                operationTimeout, deviceBackend, DEFAULT_WATCHDOG_BOUND);
    }

    /** The option's value, or {@code fallback}; also consults system property {@code te.<key>}. */
    public String option(String key, String fallback) {
        String v = providerOptions.get(key);
        if (v == null) {
            v = System.getProperty("te." + key);
        }
        return v == null ? fallback : v;
    }
}
