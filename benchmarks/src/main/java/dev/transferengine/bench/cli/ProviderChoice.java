package dev.transferengine.bench.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code --provider} names users type, mapped to an engine provider plus the options that select
 * the fabric: {@code tcp}, {@code shm} and {@code efa} are all the libfabric provider with a different
 * {@code libfabric.provider}; {@code loopback} and {@code verbs} are engine providers of their own.
 * Explicit {@code --provider-option}s win over these defaults.
 */
public enum ProviderChoice {
    LOOPBACK("loopback", Map.of()),
    /** tcp;ofi_rxm bound to 127.0.0.1: on loopback, whatever other interfaces the machine has. */
    TCP("libfabric", Map.of("libfabric.provider", "tcp;ofi_rxm", "libfabric.node", "127.0.0.1")),
    SHM("libfabric", Map.of("libfabric.provider", "shm")),
    EFA("libfabric", Map.of("libfabric.provider", "efa")),
    VERBS("verbs", Map.of());

    private final String engineProvider;
    private final Map<String, String> defaultOptions;

    ProviderChoice(String engineProvider, Map<String, String> defaultOptions) {
        this.engineProvider = engineProvider;
        this.defaultOptions = defaultOptions;
    }

    /** The name given to {@code TransferEngine.Builder.provider}. */
    public String engineProvider() {
        return engineProvider;
    }

    /** The name users type. */
    public String cliName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** This choice's default options overlaid with {@code explicit}. */
    public Map<String, String> options(Map<String, String> explicit) {
        Map<String, String> all = new LinkedHashMap<>(defaultOptions);
        all.putAll(explicit);
        return all;
    }
}
