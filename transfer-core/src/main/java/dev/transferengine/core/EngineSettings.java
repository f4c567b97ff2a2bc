package dev.transferengine.core;

import dev.transferengine.api.ThreadingMode;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.core.device.StripedCopyQueue;
import dev.transferengine.spi.EngineConfig;
import dev.transferengine.spi.ProviderOptions;

import java.util.Locale;
import java.util.Set;

/**
 * The engine's own string options, read and checked in one place before anything native is opened (the model is
 * Aeron's {@code Context.conclude()}; the builder's typed settings are concluded in {@code Builder.conclude()}).
 * Keys without a dot and {@code staging.*} are the engine's: an unknown one is rejected with the known ones, like a
 * provider's misspelt option, and each value is checked against its range. The map, then {@code te.<key>}, then
 * the default ({@link ProviderOptions}).
 *
 * @param threadingMode  {@code threadingMode}: DEDICATED (default), SHARED or INVOKER
 * @param idleGraceNanos {@code idleGraceMicros} (0..10 s, default 10 ms) in nanoseconds: how long a dedicated worker
 *                       keeps polling (spinning, then yielding) after its last work before its idle strategy may
 *                       park it. Why: with manual progress (tcp above all) a large inbound write's bytes arrive only
 *                       while the target polls, yet it completes only at its end; a target that parked between
 *                       completions throttled 16 MiB writes to 0.6-0.7 of the C baseline on the GPU machine
 * @param copyStreams    {@code copyStreams} (1..16, default 4): CUDA streams per device copy queue
 * @param cudaIpc        {@code cudaIpc} (default true): the same-host GPU path
 * @param coalesceCopies {@code coalesceCopies} (default true): back-to-back contiguous device copies (KV pages in
 *                       order) of the same-host GPU path and of loopback go out as one launch
 * @param countersFile   {@code countersFile}: where the counters are mapped, or null (in this process only)
 * @param staging        {@code staging.slotBytes} and {@code staging.slots}
 */
record EngineSettings(ThreadingMode threadingMode, long idleGraceNanos, int copyStreams, boolean cudaIpc,
                      boolean coalesceCopies, String countersFile, StagingSettings staging) {
    static final String IDLE_GRACE_MICROS = "idleGraceMicros";
    static final String COPY_STREAMS = "copyStreams";
    static final String CUDA_IPC = "cudaIpc";
    static final String COALESCE_COPIES = "coalesceCopies";
    static final long MAX_IDLE_GRACE_MICROS = 10_000_000;
    static final long DEFAULT_IDLE_GRACE_MICROS = 10_000;

    /** Every engine key; anything else without a dot (or under {@code staging.}) is rejected. */
    static final Set<String> KEYS = Set.of(TransferEngine.Builder.THREADING_MODE_OPTION,
            TransferEngine.Builder.COUNTERS_FILE_OPTION, IDLE_GRACE_MICROS, COPY_STREAMS, CUDA_IPC,
            COALESCE_COPIES, StagingSettings.SLOT_BYTES, StagingSettings.SLOTS);

    static EngineSettings from(EngineConfig config) {
        ProviderOptions o = ProviderOptions.forEngine(config.providerOptions(), KEYS);
        String[] modes = java.util.Arrays.stream(ThreadingMode.values()).map(Enum::name).toArray(String[]::new);
        ThreadingMode mode = ThreadingMode.valueOf(o.choice(TransferEngine.Builder.THREADING_MODE_OPTION,
                ThreadingMode.DEDICATED.name(), modes).toUpperCase(Locale.ROOT));
        long grace = o.longValue(IDLE_GRACE_MICROS, DEFAULT_IDLE_GRACE_MICROS, 0, MAX_IDLE_GRACE_MICROS);
        int streams = o.intValue(COPY_STREAMS, StripedCopyQueue.DEFAULT_STREAMS, 1, StripedCopyQueue.MAX_STREAMS);
        boolean ipc = o.bool(CUDA_IPC, true);
        boolean coalesce = o.bool(COALESCE_COPIES, true);
        String counters = o.value(TransferEngine.Builder.COUNTERS_FILE_OPTION);
        StagingSettings staging = new StagingSettings(
                o.longValue(StagingSettings.SLOT_BYTES, StagingSettings.DEFAULT_SLOT_BYTES, 4096, 1L << 30),
                o.intValue(StagingSettings.SLOTS, StagingSettings.DEFAULT_SLOTS, 1, 1024));
        return new EngineSettings(mode, grace * 1_000, streams, ipc, coalesce,
                counters == null || counters.isEmpty() ? null : counters, staging);
    }
}
