package dev.transferengine.efa;

/**
 * Option keys of the libfabric provider, passed with
 * {@code TransferEngine.builder().providerOption(key, value)} or as system properties {@code te.<key>}.
 * docs/libfabric.md describes each one. Constants only; thread-safe.
 */
public final class LibfabricOptions {
    /** libfabric provider name: {@code efa} (default), {@code tcp;ofi_rxm}, {@code shm}, or any fi_info offers. */
    public static final String PROVIDER = "libfabric.provider";
    /** Node to bind to (passed to fi_getinfo with FI_SOURCE), e.g. {@code 127.0.0.1} to keep tcp on loopback. */
    public static final String NODE = "libfabric.node";
    /**
     * The libfabric shared object to load, e.g. a CUDA-enabled build such as
     * {@code /opt/libfabric-cuda/lib/libfabric.so.1} or AWS's {@code /opt/amazon/efa/lib/libfabric.so.1}. Looked up
     * in the provider options, then system property {@code te.libfabric.library}, then env
     * {@value #LIBRARY_ENVIRONMENT_VARIABLE}; default: {@code /opt/amazon/efa/lib/libfabric.so.1} when present, else
     * {@code libfabric.so.1} on the dynamic linker's search path. libfabric is loaded once per process: an engine
     * that names another file than the one already loaded fails with {@code ProviderUnavailableException}.
     */
    public static final String LIBRARY = "libfabric.library";
    /** Older name of {@link #LIBRARY}, still read after it (option, {@code te.libfabric.path}, env). */
    public static final String PATH = "libfabric.path";
    /**
     * {@code true} runs the code paths EFA needs on any provider: remote CQ data consuming posted receives
     * (staged receives), provider-chosen keys and 64-byte contexts. For tests on tcp and shm.
     */
    public static final String FORCE_EFA_PATHS = "libfabric.forceEfaPaths";
    /**
     * {@code true}, {@code false} or {@code auto} (default): whether writes and sends complete only once the
     * data is in the remote memory (FI_DELIVERY_COMPLETE). Auto turns it on for tcp and other socket-based
     * providers (where it is what turns a bad remote key into an error) and off for shm and efa.
     */
    public static final String DELIVERY_COMPLETE = "libfabric.deliveryComplete";
    /** Number of staged receives per domain in FI_RX_CQ_DATA mode (default 64). */
    public static final String STAGED_RECEIVES = "libfabric.stagedReceives";
    /** Bytes of each staged receive, the largest SEND a domain in FI_RX_CQ_DATA mode accepts (default 65536). */
    public static final String STAGED_RECEIVE_BYTES = "libfabric.stagedReceiveBytes";

    /**
     * Milliseconds posts to one peer may keep returning -FI_EAGAIN (no connection, wedged queue) before they fail
     * with PEER_UNREACHABLE (default 5000). Ordinary back-pressure clears within milliseconds.
     */
    public static final String RETRY_TIMEOUT_MILLIS = "libfabric.retryTimeoutMillis";

    /**
     * {@code auto} (default), {@code true} or {@code false}: ask fi_getinfo for FI_HMEM (device memory)
     * first, falling back to an entry without it. {@code auto} asks on efa, and on any provider when the engine
     * has groups with a CUDA device ({@link #CUDA_DEVICES}): shm's FI_HMEM entry moves every host write through
     * bounce buffers instead of CMA (2-3x slower at >= 64 KiB here), so host-only engines do not ask for it.
     */
    public static final String HMEM = "libfabric.hmem";

    /**
     * Set by the engine, not by users: the CUDA ordinals of the engine's groups, comma-separated (e.g.
     * {@code "0,1"}; absent or empty when every group is host-only). With {@link #HMEM} {@code auto}, a non-empty
     * list makes the provider ask fi_getinfo for FI_HMEM, so that device memory can be registered.
     */
    public static final String CUDA_DEVICES = "libfabric.cudaDevices";

    /**
     * {@code true} (default) or {@code false}: register CUDA memory with {@code FI_HMEM_DEVICE_ONLY}. libfabric
     * 1.17's shm moves device memory between processes with CUDA IPC only for such registrations (otherwise
     * through host bounce buffers at about 1 GB/s); but CUDA cannot open an IPC handle in the process that made
     * it, so two engines of one process writing device memory to each other over shm fail with
     * {@code -FI_EINVAL} unless this is {@code false}. (In one process, the loopback provider is the fast path.)
     */
    public static final String HMEM_DEVICE_ONLY = "libfabric.hmemDeviceOnly";

    /**
     * {@code auto} (default), {@code true} or {@code false}: post every RMA write with remote CQ data, so that the
     * target checks the remote key and address of writes that carry no imm too. libfabric 1.17's shm copies an
     * imm-less write straight into the peer (process_vm_writev) without checking the key at all; {@code auto} turns
     * this on for shm (when the CQ data is at least 8 bytes wide). The engine marks such writes with a bit above
     * the 32-bit imm and the target drops their CQ entries: user-visible imms are unchanged. {@code false} brings
     * back the unchecked fast path (measurements only). docs/reliability.md.
     */
    public static final String VERIFY_REMOTE_KEYS = "libfabric.verifyRemoteKeys";

    /**
     * {@code auto} (default), {@code true} or {@code false}: each endpoint publishes its remote-writable
     * registrations (key and range) in a file under {@code /dev/shm}, and a writer checks a write to a same-host
     * peer against the peer's table before posting it, failing a stale, forged or out-of-range descriptor with
     * REMOTE_ACCESS at once. libfabric 1.17's shm drops a write its target refuses without telling the writer (a
     * small one "succeeds", a large one never completes); {@code auto} turns this on for shm. Both sides need it: a
     * peer without a table is not checked. docs/reliability.md.
     */
    public static final String KEY_TABLE = "libfabric.keyTable";

    /**
     * {@code true} (default) or {@code false}: on shm with libfabric 1.17, a daemon thread per endpoint watches its
     * peers' processes, releases the spin locks a peer killed inside libfabric left taken (which would otherwise
     * wedge this engine's worker for good), and the worker fails the writes the dead peer will never answer, so
     * writes to other peers keep completing. Reaches into libfabric's shared region (layout of 1.17 only, checked
     * before use). docs/reliability.md, "Recovering from a peer that died inside libfabric".
     */
    public static final String DEAD_PEER_RECOVERY = "libfabric.deadPeerRecovery";

    /** Environment variable naming the library, when no option or system property does. */
    public static final String LIBRARY_ENVIRONMENT_VARIABLE = "TE_LIBFABRIC_LIBRARY";
    /** Older environment variable for the library, read after {@link #LIBRARY_ENVIRONMENT_VARIABLE}. */
    public static final String PATH_ENVIRONMENT_VARIABLE = "TE_LIBFABRIC_PATH";

    private LibfabricOptions() {
    }
}
