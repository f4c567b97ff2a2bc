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
 */
public record EngineConfig(String name, String provider, Map<String, String> providerOptions,
                           List<GroupSpec> groups, Supplier<IdleStrategy> idleStrategy, int requestQueueCapacity,
                           Duration transferTimeout, Duration operationTimeout, DeviceBackend deviceBackend) {
    public EngineConfig {
        providerOptions = Map.copyOf(providerOptions);
        groups = List.copyOf(groups);
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
