package dev.transferengine.api;

import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.EngineConfig;
import dev.transferengine.spi.EngineFactory;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * Moves bytes between registered memories of engines, with one-sided WRITEs that may carry a 32-bit
 * immediate, and SEND/RECV for small messages.
 *
 * <h2>Threads</h2>
 * All methods are thread-safe. Each group (normally one GPU) has one worker that owns its NICs: it takes
 * requests from a bounded multi-producer queue, posts them, and polls every NIC's completions. By default
 * ({@link ThreadingMode#DEDICATED}) the worker has its own thread; with {@link ThreadingMode#INVOKER} the
 * application's threads run it through {@link #invoker(int)}. Either way one thread at a time touches a group's
 * NICs. Callbacks run on a per-group callback executor, never on a worker; {@link TransferCounter} and
 * {@link ImmCounter} are updated by the worker directly.
 *
 * <h2>Ordering</h2>
 * None. Delivery is reliable but unordered: writes of one request, and of different requests, may land
 * in any order, on any NIC. A receiver learns that data landed by counting immediates
 * ({@link #expectImms}, {@link #immCounter}); a write's payload is in memory before its imm is counted.
 * A sender's "done" means only that its source buffer may be reused.
 *
 * <h2>Errors and deadlines</h2>
 * Invalid requests throw {@link InvalidRequestException} before anything reaches native code.
 * Transfers that fail, or that do not complete within the engine's transfer timeout, complete
 * exceptionally with a {@link TransferException}. Every blocking method has a deadline.
 * After {@link #close()}, submissions throw {@link ClosedException} and transfers in flight fail with it.
 */
public interface TransferEngine extends AutoCloseable {

    /** A builder; {@link Builder#build()} finds the engine implementation with {@link ServiceLoader}. */
    static Builder builder() {
        return new Builder();
    }

    /** The provider in use ("loopback", "libfabric", "verbs"). */
    String providerName();

    /** Address of group 0's NIC 0: where SENDs to this engine go. */
    DomainAddress mainAddress();

    /** Number of groups (workers). */
    int groupCount();

    /** Number of NICs of {@code group}. */
    int nicCount(int group);

    /** The addresses of {@code group}'s NICs, in NIC order. */
    List<DomainAddress> addresses(int group);

    /** Sum of the NICs' link speeds in bit/s, or 0 when the provider does not know. */
    long linkSpeedBitsPerSecond();

    /**
     * Registers native memory with every NIC of the owning group. For {@link Device.Kind#CUDA} the segment only
     * carries the device pointer and length (see {@link #registerDevice}); it is never dereferenced.
     *
     * @throws InvalidRequestException for heap segments, empty segments, or unknown devices
     */
    MemoryRegion register(MemorySegment segment, Device device, Access access);

    /**
     * Registers device (GPU) memory the caller already owns: a CUDA device pointer (PyTorch's
     * {@code data_ptr()}, a {@code cuMemAlloc} result, {@code transfer-cuda}'s {@code CudaDeviceMemory}) with
     * the group configured for {@code cudaOrdinal} ({@link GroupSpec#withCudaDevice}). Before anything reaches a
     * NIC the engine checks with the CUDA driver that the whole range is device memory of that ordinal inside
     * one allocation. Providers that can register device memory do so (libfabric {@code FI_HMEM}, verbs
     * dma-buf); otherwise the engine stages the region through pinned host buffers ({@code docs/gpu.md}).
     *
     * <p>The memory must stay allocated until the region is closed. The returned region's
     * {@link MemoryRegion#segment()} is a zero-length segment at the device address: device memory has no host
     * view and is never dereferenced on the host.
     *
     * @throws InvalidRequestException for a bad range (host memory, another device's, freed, past its
     *                                 allocation) or a device no group is configured for
     * @throws ProviderUnavailableException when no device backend can run here (the message says why)
     */
    MemoryRegion registerDevice(long devicePointer, long lengthBytes, int cudaOrdinal, Access access);

    /** Registers host memory with group 0. */
    default MemoryRegion register(MemorySegment segment, Access access) {
        return register(segment, Device.host(), access);
    }

    /** Submits a request; {@code callback} gets exactly one of done or error. */
    void submit(TransferRequest request, TransferCallback callback);

    /** Submits a request; the future completes (on the callback executor) when it is done or failed. */
    CompletableFuture<Void> submit(TransferRequest request);

    /** Submits a request whose completion increments {@code counter}: no allocation per request. */
    void submit(TransferRequest request, TransferCounter counter);

    /**
     * Submits {@code requests[from, from + count)} in one call: every request is validated first (a bad one throws
     * {@link InvalidRequestException} and none of the batch is submitted), then consecutive requests of one group
     * go to its worker with one queue hand-off and one wake-up. Each request completes {@code counter} exactly
     * once. Allocates nothing per request; the array may be reused as soon as the call returns.
     */
    void submit(TransferRequest[] requests, int from, int count, TransferCounter counter);

    /** {@link #submit(TransferRequest[], int, int, TransferCounter)} for a list (no allocation per request). */
    void submit(List<? extends TransferRequest> requests, TransferCounter counter);

    /**
     * The invoker of {@code group}, for engines built with {@link ThreadingMode#INVOKER}: the application's thread
     * drives the group's duty cycle with it.
     *
     * @throws InvalidRequestException for a bad group, or when the engine runs dedicated worker threads
     */
    GroupInvoker invoker(int group);

    /**
     * Sends {@code length} bytes at {@code src + offset} to the engine at {@code destination}
     * (its {@link #mainAddress()}), which delivers them to one of its posted receive buffers.
     */
    void send(DomainAddress destination, MemoryRegion src, long offset, long length, TransferCallback callback);

    /** {@link #send(DomainAddress, MemoryRegion, long, long, TransferCallback)} as a future. */
    CompletableFuture<Void> send(DomainAddress destination, MemoryRegion src, long offset, long length);

    /**
     * Posts {@code count} persistent receive buffers of {@code bufferBytes} each on the main NIC. Every
     * message is handed to {@code handler}, then its buffer is re-posted.
     */
    ReceiveSet postReceives(int bufferBytes, int count, ReceiveHandler handler);

    /**
     * Expects {@code count} imms of value {@code imm}: {@code onReached} runs exactly once, on the callback
     * executor, when they have arrived; the expectation is then removed and later imms of that value are
     * plain imm events. Only imms arriving after this call are counted (imms that arrived earlier were
     * already delivered as imm events): register before the sender can start, or use {@link #immCounter}.
     *
     * @throws InvalidRequestException if {@code count < 1} or the value already has a counter or expectation
     */
    ImmExpectation expectImms(int imm, long count, Runnable onReached);

    /**
     * The free-running counter for {@code imm}, created on first use. From then on every imm of this value
     * is counted (engine-wide) and none is delivered as an imm event.
     *
     * @throws InvalidRequestException if an expectation is active for the value
     */
    ImmCounter immCounter(int imm);

    /** Removes the counter or expectation of {@code imm} (cancellation). Returns whether one existed. */
    boolean removeImmCounter(int imm);

    /** Adds a handler for imms that are neither counted nor expected (and for surplus imms). */
    Subscription onImm(IntConsumer handler);

    /** A fresh completion counter for {@link #submit(TransferRequest, TransferCounter)}. */
    default TransferCounter newTransferCounter() {
        return new TransferCounter();
    }

    /**
     * A snapshot of every group's worker: running, stuck (no duty cycle completed within the
     * {@linkplain Builder#watchdogBound watchdog bound}, typically a native call that does not return), failed or
     * closed, with its cycle count and how many times it was reported stuck. Never blocks and never waits for a
     * worker; usable after {@link #close()} (a worker that close left behind reads {@code STUCK} until its thread
     * ends).
     */
    EngineHealth health();

    /**
     * The engine's counters, per group and NIC: bytes and writes posted and completed, sends, receives, imms,
     * back-pressure, failures by category, transfers in flight, open regions. A live view: reads are safe from
     * any thread, allocate nothing and never block a worker; usable after {@link #close()} (the last values),
     * except with a counters file, which close unmaps. Published to other processes with
     * {@link Builder#countersFile(java.nio.file.Path)}.
     */
    EngineCounters counters();

    /**
     * Closes the engine: in-flight transfers fail with {@link ClosedException}, workers stop, every
     * region is deregistered and every native resource freed. Idempotent.
     *
     * <p>Returns within three operation timeouts at worst (one for callers still inside the engine, one shared by
     * the workers to stop, one shared by the callback threads to drain), also when a worker is stuck in a native
     * call that never returns. Such a worker cannot be
     * stopped: close fails the requests still waiting in its queue, then leaves its thread behind (logged at
     * ERROR, {@link EngineHealth.WorkerState#STUCK} in {@link #health()}) together with its transfers in
     * flight, regions and NICs, which are freed by that thread if its native call ever returns (its transfers
     * then fail with {@link ClosedException}, or complete, exactly once). Freeing native memory under a thread
     * inside a native call could crash the process.
     */
    @Override
    void close();

    /**
     * Builds a {@link TransferEngine}. Not thread-safe. Defaults: provider "loopback", one group with one
     * NIC, back-off idling, a 4096-entry request queue, 30 s transfer and operation timeouts, a 10 s watchdog
     * bound.
     */
    final class Builder {
        /** The engine option that carries {@link #threadingMode(ThreadingMode)}: a {@link ThreadingMode} name. */
        public static final String THREADING_MODE_OPTION = "threadingMode";
        /** The engine option that carries {@link #countersFile(java.nio.file.Path)}: the file's path. */
        public static final String COUNTERS_FILE_OPTION = "countersFile";

        private String provider = "loopback";
        private final Map<String, String> providerOptions = new LinkedHashMap<>();
        private final List<GroupSpec> groups = new ArrayList<>();
        private Supplier<IdleStrategy> idleStrategy = IdleStrategy::backoff;
        private int requestQueueCapacity = 4096;
        private Duration transferTimeout = Duration.ofSeconds(30);
        private Duration operationTimeout = Duration.ofSeconds(30);
        private String name = "te";
        private DeviceBackend deviceBackend;
        private Duration watchdogBound = EngineConfig.DEFAULT_WATCHDOG_BOUND;
        private ThreadingMode threadingMode = ThreadingMode.DEDICATED;

        Builder() {
        }

        /** The provider by name: "loopback" (default), "libfabric", "verbs". */
        public Builder provider(String providerName) {
            this.provider = Objects.requireNonNull(providerName, "providerName");
            return this;
        }

        /** A provider-specific option, e.g. {@code libfabric.provider=shm} or {@code loopback.reorder=true}. */
        public Builder providerOption(String key, String value) {
            providerOptions.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** Adds a group; groups are numbered in the order added. */
        public Builder addGroup(GroupSpec group) {
            groups.add(Objects.requireNonNull(group, "group"));
            return this;
        }

        /**
         * Adds the groups {@code topology} suggests
         * ({@link dev.transferengine.api.topology.GroupPlanner#forThisProcess()}): one per GPU this process sees, over
         * the NICs behind its PCIe switch (else of its NUMA node) by domain name, with its CUDA ordinal (PCI bus order,
         * narrowed by {@code CUDA_VISIBLE_DEVICES}) and its worker pinned to an allowed core of its NUMA node, never
         * CPU 0 and never a core another worker got. NIC counts may differ between groups. Without GPUs: one host
         * group per NUMA node with RDMA NICs; without either, nothing (the default group applies). For another
         * ordinal mapping or reserved CPUs, add a {@code GroupPlanner}'s groups with {@link #addGroup}. Discover with
         * {@link dev.transferengine.api.topology.Topology#discover()}.
         */
        public Builder groupsFromTopology(dev.transferengine.api.topology.Topology topology) {
            dev.transferengine.api.topology.GroupPlanner.forThisProcess()
                    .plan(Objects.requireNonNull(topology, "topology")).forEach(this::addGroup);
            return this;
        }

        /** Shorthand: {@code groups} host groups of {@code nicsPerGroup} NICs each. */
        public Builder groups(int count, int nicsPerGroup) {
            if (count < 1) {
                throw new InvalidRequestException("need at least one group, got " + count);
            }
            for (int i = 0; i < count; i++) {
                groups.add(GroupSpec.ofNics(nicsPerGroup));
            }
            return this;
        }

        /** The idle strategy each worker gets a fresh instance of. */
        public Builder idleStrategy(Supplier<IdleStrategy> factory) {
            this.idleStrategy = Objects.requireNonNull(factory, "factory");
            return this;
        }

        /**
         * Who drives the groups' duty cycles: a dedicated worker thread per group (default), or the application
         * through {@link TransferEngine#invoker(int)}. Kept as the engine option {@code threadingMode}.
         */
        public Builder threadingMode(ThreadingMode mode) {
            this.threadingMode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * Publishes the engine's {@link TransferEngine#counters() counters} in a memory-mapped file at {@code path},
         * so another process can read them while the engine runs ({@code ./te stat}, which looks in
         * {@code /dev/shm/transferengine/*.counters} by default). The file is created (a stale one replaced) when
         * the engine starts and deleted when it closes. Default: no file, the counters live in this process only.
         */
        public Builder countersFile(java.nio.file.Path path) {
            Objects.requireNonNull(path, "path");
            providerOptions.put(COUNTERS_FILE_OPTION, path.toString());
            return this;
        }

        /** Capacity of each worker's request queue (rounded up to a power of two). */
        public Builder requestQueueCapacity(int capacity) {
            if (capacity < 2) {
                throw new InvalidRequestException("request queue capacity must be >= 2, got " + capacity);
            }
            this.requestQueueCapacity = capacity;
            return this;
        }

        /** A transfer not completed within this time fails with {@link TransferTimeoutException}. */
        public Builder transferTimeout(Duration timeout) {
            this.transferTimeout = positive(timeout, "transferTimeout");
            return this;
        }

        /** Deadline for registration, close, and for waiting on a full request queue. */
        public Builder operationTimeout(Duration timeout) {
            this.operationTimeout = positive(timeout, "operationTimeout");
            return this;
        }

        /**
         * The watchdog bound: a worker that has not completed a duty cycle for longer than this, while not
         * idle-waiting for work, is reported stuck (logged at ERROR with its thread's stack, counted, and
         * {@link EngineHealth.WorkerState#STUCK} in {@link TransferEngine#health()}); when it completes a cycle
         * again it is reported running. The engine checks every quarter of the bound, from one daemon thread
         * {@code <name>-watchdog}. Keep it above the longest legitimate native call on a worker (registering a
         * very large region pins its pages there). {@link Duration#ZERO} disables the watchdog. Default 10 s.
         *
         * @throws InvalidRequestException when negative, or positive but under 10 ms
         */
        public Builder watchdogBound(Duration bound) {
            if (bound == null || bound.isNegative() || (!bound.isZero() && bound.compareTo(Duration.ofMillis(10)) < 0)) {
                throw new InvalidRequestException("watchdogBound must be zero (disabled) or at least 10 ms, got " + bound);
            }
            this.watchdogBound = bound;
            return this;
        }

        /** A name for threads and logs. */
        public Builder name(String engineName) {
            this.name = Objects.requireNonNull(engineName, "engineName");
            return this;
        }

        /**
         * The device (GPU) backend for groups with a CUDA device. Default: the one {@link ServiceLoader} finds
         * ({@code transfer-cuda} on the class or module path). Tests pass a host-memory double here.
         */
        public Builder deviceBackend(DeviceBackend backend) {
            this.deviceBackend = Objects.requireNonNull(backend, "backend");
            return this;
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new InvalidRequestException(what + " must be positive, got " + d);
            }
            return d;
        }

        /** The groups the engine will have: those added, or one group of one NIC when none was. */
        public List<GroupSpec> groups() {
            return groups.isEmpty() ? List.of(GroupSpec.ofNics(1)) : List.copyOf(groups);
        }

        /**
         * The one place where the builder's settings become the engine's configuration (Aeron's
         * {@code Context.conclude()}): defaults filled in (groups, watchdog bound), the threading mode folded into
         * the options the engine reads. Each setter has validated its own argument already; what the engine
         * implementation owns (its option keys) it validates when it starts, before opening anything native.
         * Not public: the configuration is an SPI type, for engine implementations.
         */
        EngineConfig conclude() {
            List<GroupSpec> g = groups();
            Map<String, String> options = new LinkedHashMap<>(providerOptions);
            if (threadingMode != ThreadingMode.DEDICATED) {
                options.put(THREADING_MODE_OPTION, threadingMode.name());
            }
            return new EngineConfig(name, provider, Map.copyOf(options), g, idleStrategy,
                    requestQueueCapacity, transferTimeout, operationTimeout, deviceBackend, watchdogBound);
        }

        /**
         * Builds and starts the engine.
         *
         * @throws ProviderUnavailableException when the provider cannot run here (the message says why)
         */
        public TransferEngine build() {
            EngineConfig config = conclude();
            for (EngineFactory f : ServiceLoader.load(EngineFactory.class, TransferEngine.class.getClassLoader())) {
                return f.create(config);
            }
            for (EngineFactory f : ServiceLoader.load(EngineFactory.class)) {
                return f.create(config);
            }
            throw new ProviderUnavailableException(
                    "no TransferEngine implementation found: add dev.transferengine:transfer-core to the class path", null);
        }
    }
}
