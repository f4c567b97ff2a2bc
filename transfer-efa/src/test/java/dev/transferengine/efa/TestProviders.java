package dev.transferengine.efa;

import dev.transferengine.spi.Availability;
import org.junit.jupiter.api.Assumptions;

import java.util.HashMap;
import java.util.Map;

/** The libfabric configurations the tests run on, and the skip when libfabric itself is missing. */
public enum TestProviders {
    TCP(Map.of(LibfabricOptions.PROVIDER, "tcp;ofi_rxm", LibfabricOptions.NODE, "127.0.0.1")),
    SHM(Map.of(LibfabricOptions.PROVIDER, "shm")),
    TCP_EFA_PATHS(with(TCP.options, LibfabricOptions.FORCE_EFA_PATHS, "true")),
    SHM_EFA_PATHS(with(SHM.options, LibfabricOptions.FORCE_EFA_PATHS, "true"));

    public final Map<String, String> options;

    TestProviders(Map<String, String> options) {
        this.options = options;
    }

    public boolean isTcp() {
        return this == TCP || this == TCP_EFA_PATHS;
    }

    public Map<String, String> with(String key, String value) {
        return with(options, key, value);
    }

    private static Map<String, String> with(Map<String, String> base, String key, String value) {
        Map<String, String> m = new HashMap<>(base);
        m.put(key, value);
        return Map.copyOf(m);
    }

    /**
     * Skips the calling test when libfabric.so.1 cannot be loaded (CI installs libfabric1, so there the tests
     * run); any other problem is a failure, not a skip.
     */
    public static void assumeLibfabric() {
        Availability a = new LibfabricProvider().availability();
        Assumptions.assumeTrue(a.available(), () -> "libfabric is not usable here: " + a.reason());
    }
}
