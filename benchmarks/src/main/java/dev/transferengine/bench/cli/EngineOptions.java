package dev.transferengine.bench.cli;

import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.TransferEngine;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** Command-line options that decide how an engine is built (picocli mixin). Not thread-safe. */
public final class EngineOptions {

    @Option(names = "--provider", paramLabel = "NAME", defaultValue = "loopback",
            description = "loopback, tcp, shm, efa or verbs (default: ${DEFAULT-VALUE}).")
    ProviderChoice provider = ProviderChoice.LOOPBACK;

    @Option(names = "--nics-per-gpu", paramLabel = "N", defaultValue = "1",
            description = "NICs (domains) per group; single writes are sharded over all of them (default: ${DEFAULT-VALUE}).")
    int nicsPerGpu = 1;

    @Option(names = "--provider-option", paramLabel = "KEY=VALUE",
            description = "Provider option, repeatable (e.g. libfabric.provider=tcp;ofi_rxm, loopback.reorder=true).")
    Map<String, String> providerOptions = new LinkedHashMap<>();

    @Option(names = "--idle", paramLabel = "STRATEGY", defaultValue = "backoff",
            description = "Worker idle strategy: backoff, spin or yield (default: ${DEFAULT-VALUE}). "
                    + "Spin only with a spare core per worker.")
    IdleChoice idle = IdleChoice.BACKOFF;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "Transfer and operation timeout of the engines, and the longest wait for one write (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds = 60;

    public ProviderChoice provider() {
        return provider;
    }

    public int nicsPerGpu() {
        return nicsPerGpu;
    }

    public Duration timeout() {
        return Duration.ofSeconds(timeoutSeconds);
    }

    /** The options the provider gets: the choice's defaults overlaid with {@code --provider-option}s. */
    public Map<String, String> effectiveProviderOptions() {
        return provider.options(providerOptions);
    }

    /** These options as command-line arguments, for a child process of the bench that must build the same engines. */
    public java.util.List<String> asArgs() {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("--provider", provider.name(),
                "--nics-per-gpu", Integer.toString(nicsPerGpu), "--idle", idle.name(), "--timeout",
                Integer.toString(timeoutSeconds)));
        providerOptions.forEach((k, v) -> args.addAll(java.util.List.of("--provider-option", k + "=" + v)));
        return args;
    }

    /** A builder for one engine named {@code name} with one group of {@link #nicsPerGpu()} NICs. */
    public TransferEngine.Builder builder(String name) {
        return builder(name, -1);
    }

    /**
     * {@link #builder(String)} whose group owns GPU {@code cudaDevice} (its memory is registered with
     * {@code registerDevice}); {@code -1}: a host-memory group. Two engines of one process over libfabric shm cannot
     * use shm's CUDA IPC with each other, so a GPU group on libfabric registers without {@code FI_HMEM_DEVICE_ONLY}.
     */
    public TransferEngine.Builder builder(String name, int cudaDevice) {
        if (nicsPerGpu < 1) {
            throw new IllegalArgumentException("--nics-per-gpu must be >= 1, got " + nicsPerGpu);
        }
        if (timeoutSeconds < 1) {
            throw new IllegalArgumentException("--timeout must be >= 1 s, got " + timeoutSeconds);
        }
        TransferEngine.Builder b = TransferEngine.builder()
                .name(name)
                .provider(provider.engineProvider())
                .idleStrategy(idle.factory())
                .transferTimeout(timeout())
                .operationTimeout(timeout());
        if (cudaDevice >= 0) {
            b.addGroup(GroupSpec.ofNics(nicsPerGpu).withCudaDevice(cudaDevice));
            if (provider.engineProvider().equals("libfabric")) {
                b.providerOption("libfabric.hmemDeviceOnly", "false");
            }
        } else {
            b.groups(1, nicsPerGpu);
        }
        effectiveProviderOptions().forEach(b::providerOption);
        return b;
    }
}
