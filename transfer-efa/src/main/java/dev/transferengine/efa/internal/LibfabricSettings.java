package dev.transferengine.efa.internal;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.efa.LibfabricOptions;
import dev.transferengine.spi.ProviderOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The libfabric provider's options, parsed and validated. Immutable.
 *
 * @param provider              libfabric provider name for fi_getinfo
 * @param node                  node for fi_getinfo with FI_SOURCE, or null
 * @param libraryPath           explicit library file ({@code libfabric.library}), or null to search
 * @param forceEfaPaths         run the EFA code paths (staged receives for FI_RX_CQ_DATA) on any provider
 * @param deliveryComplete      TRUE / FALSE, or null for automatic (on unless the provider is efa)
 * @param stagedReceives        staged receives per domain in FI_RX_CQ_DATA mode
 * @param stagedReceiveBytes    bytes per staged receive
 * @param retryTimeoutMillis    how long posts to one peer may keep being refused (-FI_EAGAIN) before they fail
 *                              with PEER_UNREACHABLE
 * @param hmem                  TRUE / FALSE, or null for automatic (ask for FI_HMEM on efa, or when the engine
 *                              has CUDA groups)
 * @param cudaDevices           the CUDA ordinals of the engine's groups ({@code libfabric.cudaDevices}, set by the
 *                              engine); empty when all groups are host-only
 * @param hmemDeviceOnly        register CUDA memory with FI_HMEM_DEVICE_ONLY ({@code libfabric.hmemDeviceOnly},
 *                              default true): shm's CUDA IPC path for peers in other processes; false for
 *                              engines that write device memory over shm to a peer in the same process
 * @param verifyRemoteKeys      TRUE / FALSE, or null for automatic (post every write with remote CQ data on shm,
 *                              so the target checks its key; see {@link #markImmlessWrites})
 * @param keyTable              TRUE / FALSE, or null for automatic (shm endpoints publish their registrations and
 *                              writers check keys before posting; see {@link #keyTable})
 * @param deadPeerRecovery      shm on libfabric 1.17: release locks dead peers left taken, fail what they will never
 *                              answer ({@link #deadPeerRecovery})
 */
public record LibfabricSettings(String provider, String node, String libraryPath, boolean forceEfaPaths,
                                Boolean deliveryComplete, int stagedReceives, int stagedReceiveBytes,
                                int retryTimeoutMillis, Boolean hmem, List<Integer> cudaDevices,
                                boolean hmemDeviceOnly, Boolean verifyRemoteKeys,
                                Boolean keyTable, boolean deadPeerRecovery) {
    public LibfabricSettings {
        cudaDevices = List.copyOf(cudaDevices);
    }

    public static final String DEFAULT_PROVIDER = "efa";

    /** Every {@code libfabric.*} key the provider reads; any other one in the options map is rejected. */
    public static final Set<String> KEYS = Set.of(LibfabricOptions.PROVIDER, LibfabricOptions.NODE,
            LibfabricOptions.LIBRARY, LibfabricOptions.PATH, LibfabricOptions.FORCE_EFA_PATHS,
            LibfabricOptions.DELIVERY_COMPLETE, LibfabricOptions.STAGED_RECEIVES, LibfabricOptions.STAGED_RECEIVE_BYTES,
            LibfabricOptions.RETRY_TIMEOUT_MILLIS, LibfabricOptions.HMEM, LibfabricOptions.CUDA_DEVICES,
            LibfabricOptions.HMEM_DEVICE_ONLY, LibfabricOptions.VERIFY_REMOTE_KEYS, LibfabricOptions.KEY_TABLE,
            LibfabricOptions.DEAD_PEER_RECOVERY);

    /**
     * Reads {@code options} through {@link ProviderOptions} (the map, then system properties {@code te.<key>}, then
     * the defaults); an unknown {@code libfabric.*} key is rejected with the list of known ones. The library: see
     * {@link #libraryPath(Map)}.
     */
    public static LibfabricSettings from(Map<String, String> options) {
        ProviderOptions o = new ProviderOptions("libfabric", options, KEYS);
        String provider = o.string(LibfabricOptions.PROVIDER, DEFAULT_PROVIDER);
        if (provider.isBlank()) {
            throw new InvalidRequestException(LibfabricOptions.PROVIDER + " must name a libfabric provider");
        }
        return new LibfabricSettings(provider, blankToNull(o.string(LibfabricOptions.NODE, null)),
                libraryPath(options), o.bool(LibfabricOptions.FORCE_EFA_PATHS, false),
                autoBoolean(o, LibfabricOptions.DELIVERY_COMPLETE),
                o.intValue(LibfabricOptions.STAGED_RECEIVES, 64, 1, 1 << 16),
                o.intValue(LibfabricOptions.STAGED_RECEIVE_BYTES, 65536, 1, 1 << 30),
                o.intValue(LibfabricOptions.RETRY_TIMEOUT_MILLIS, 5000, 1, 3_600_000),
                autoBoolean(o, LibfabricOptions.HMEM),
                ordinals(o.string(LibfabricOptions.CUDA_DEVICES, "")),
                o.bool(LibfabricOptions.HMEM_DEVICE_ONLY, true),
                autoBoolean(o, LibfabricOptions.VERIFY_REMOTE_KEYS),
                autoBoolean(o, LibfabricOptions.KEY_TABLE),
                o.bool(LibfabricOptions.DEAD_PEER_RECOVERY, true));
    }

    /**
     * The first non-blank of: options {@code libfabric.library}, {@code libfabric.path} (older name); system
     * properties {@code te.libfabric.library}, {@code te.libfabric.path}; env {@code TE_LIBFABRIC_LIBRARY},
     * {@code TE_LIBFABRIC_PATH}. Null (search) when none is set.
     */
    static String libraryPath(Map<String, String> options) {
        String[] candidates = {
            options == null ? null : options.get(LibfabricOptions.LIBRARY),
            options == null ? null : options.get(LibfabricOptions.PATH),
            System.getProperty("te." + LibfabricOptions.LIBRARY),
            System.getProperty("te." + LibfabricOptions.PATH),
            System.getenv(LibfabricOptions.LIBRARY_ENVIRONMENT_VARIABLE),
            System.getenv(LibfabricOptions.PATH_ENVIRONMENT_VARIABLE)};
        for (String c : candidates) {
            if (c != null && !c.isBlank()) {
                return c.trim();
            }
        }
        return null;
    }

    /** {@code "0,1"} to [0, 1]; blank to []; negative entries (host groups, -1) are dropped. */
    private static List<Integer> ordinals(String value) {
        List<Integer> out = new ArrayList<>();
        for (String part : value.split(",")) {
            String t = part.trim();
            if (t.isEmpty()) {
                continue;
            }
            try {
                int ordinal = Integer.parseInt(t);
                if (ordinal >= 0 && !out.contains(ordinal)) {
                    out.add(ordinal);
                }
            } catch (NumberFormatException e) {
                throw new InvalidRequestException(LibfabricOptions.CUDA_DEVICES
                        + " must list CUDA ordinals separated by commas, got " + value);
            }
        }
        return out;
    }

    /** {@code auto} (the default) is null, else the boolean; anything else is an error naming the key. */
    private static Boolean autoBoolean(ProviderOptions o, String key) {
        return switch (o.choice(key, "auto", "auto", "true", "false")) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> null;
        };
    }

    /**
     * Whether fi_getinfo is first asked for FI_HMEM: explicitly set, or automatically on efa and whenever the engine
     * has groups with a CUDA device (without one, shm's FI_HMEM entry only makes host writes slower).
     */
    public boolean askForHmem() {
        if (hmem != null) {
            return hmem;
        }
        return provider.toLowerCase(Locale.ROOT).contains("efa") || !cudaDevices.isEmpty();
    }

    /**
     * Whether writes and sends ask for FI_DELIVERY_COMPLETE on this provider. Automatic: on for the socket-based
     * providers (tcp, and anything layered with ofi_rxm), whose transmit completion comes before the target has
     * checked the key and address, so a bad write would otherwise "succeed" and vanish; off for shm (1.17 never
     * completes a zero-length write with it, and wedges the endpoint when the remote key is bad) and for efa (the
     * NIC reports remote access errors by itself).
     */
    public boolean deliveryCompleteFor(String providerName) {
        if (deliveryComplete != null) {
            return deliveryComplete;
        }
        return socketBased(providerName);
    }

    /**
     * Whether this domain posts writes that carry no imm with remote CQ data anyway, marked with
     * {@link CqData#NO_IMM} so the target's reader drops them. Needed on libfabric 1.17's shm: a write without
     * FI_REMOTE_CQ_DATA (and without FI_DELIVERY_COMPLETE or RMA ordering) takes its fast path, a
     * process_vm_writev straight into the target that never looks at the key, so a wrong or stale key, or an
     * address outside the registration, overwrites the target's memory; a write with CQ data goes through the
     * target, which verifies key, range and access first. Automatic: on for shm; tcp;ofi_rxm and efa check the key
     * of every write. Never where the CQ data is narrower than 8 bytes (the mark would not fit).
     */
    public boolean markImmlessWrites(String providerName, long cqDataSize) {
        if (cqDataSize < CqData.BYTES_NEEDED || Boolean.FALSE.equals(verifyRemoteKeys)) {
            return false;
        }
        if (verifyRemoteKeys != null) {
            return true;
        }
        return providerName != null && providerName.toLowerCase(Locale.ROOT).startsWith("shm");
    }

    /**
     * Whether this domain publishes its remote-writable registrations in a {@link KeyTable} and checks writes to
     * same-host peers against theirs before posting. Needed on libfabric 1.17's shm, which reports a write its
     * target refused to nobody (docs/reliability.md). Automatic: on for shm; never with provider-chosen keys (the
     * table's keys name their slot).
     */
    public boolean keyTable(String providerName, boolean providerKeys) {
        if (providerKeys || Boolean.FALSE.equals(keyTable)) {
            return false;
        }
        return keyTable != null || providerName != null && providerName.toLowerCase(Locale.ROOT).startsWith("shm");
    }

    /**
     * Whether this domain runs a {@link ShmLockSentinel}: shm on libfabric 1.17 (the only region layout it knows),
     * unless turned off.
     */
    public boolean deadPeerRecovery(String providerName, int libraryVersion) {
        return deadPeerRecovery && providerName != null && providerName.toLowerCase(Locale.ROOT).startsWith("shm")
                && libraryVersion == (1 << 16 | 17);
    }

    /** tcp, and anything layered with ofi_rxm or on sockets: connections that a refused write tears down. */
    public static boolean socketBased(String providerName) {
        String p = providerName == null ? "" : providerName.toLowerCase(Locale.ROOT);
        return p.contains("tcp") || p.contains("rxm") || p.contains("sockets") || p.contains("udp");
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
