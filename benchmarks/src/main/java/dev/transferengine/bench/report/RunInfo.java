package dev.transferengine.bench.report;

import java.util.Map;

/**
 * What a run measured and on what: printed above the table and as the JSON header. Immutable.
 *
 * @param completion          what "done" means for latency and the window ("imm" or "local")
 * @param linkBitsPerSecond   the sender's summed NIC link speed, 0 when the provider does not know
 */
public record RunInfo(String tool, String mode, String provider, String engineProvider,
                      Map<String, String> providerOptions, int groups, int nicsPerGpu, String completion,
                      int window, long maxInflightBytes, int warmup, int iterations, long bytesPerCase,
                      boolean verify, long linkBitsPerSecond, String javaVersion) {
    public RunInfo {
        providerOptions = Map.copyOf(providerOptions);
    }

    /** One line that says what "done" means, for humans. */
    public String completionMeaning() {
        return "imm".equals(completion)
                ? "done = receiver counted the write's imms (data landed)"
                : "done = sender's local completion (source reusable; data may still be in flight)";
    }
}
