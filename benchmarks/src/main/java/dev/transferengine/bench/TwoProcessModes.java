package dev.transferengine.bench;

/** What {@code server} and {@code client} share. Stateless. */
final class TwoProcessModes {
    private TwoProcessModes() {
    }

    /** The loopback provider lives inside one JVM: two processes cannot reach each other through it. */
    static void requireCrossProcess(ProviderChoice provider) {
        if (provider == ProviderChoice.LOOPBACK) {
            throw new IllegalArgumentException("the loopback provider cannot cross processes: use --provider tcp, "
                    + "shm, efa or verbs (or `transfer-bench local` for two engines in one process)");
        }
    }
}
