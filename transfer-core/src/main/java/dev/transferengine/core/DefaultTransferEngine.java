package dev.transferengine.core;

import dev.transferengine.api.Access;
import dev.transferengine.api.ClosedException;
import dev.transferengine.api.Device;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.EngineCounters;
import dev.transferengine.api.EngineHealth;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.GroupInvoker;
import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.ImmExpectation;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.ReceiveHandler;
import dev.transferengine.api.ReceiveSet;
import dev.transferengine.api.Subscription;
import dev.transferengine.api.ThreadingMode;
import dev.transferengine.api.TransferCallback;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.core.device.StripedCopyQueue;
import dev.transferengine.api.TransferRequest;
import dev.transferengine.core.counters.CountersBlock;
import dev.transferengine.core.counters.CountersFile;
import dev.transferengine.core.counters.CountersLayout;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceMemory;
import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.EngineConfig;
import dev.transferengine.spi.ProviderFabric;

import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The engine: one {@link Worker} per group over the provider's domains, an engine-wide {@link ImmTable},
 * request validation on the caller's thread. See {@code docs/architecture.md} for the path of a transfer.
 */
public final class DefaultTransferEngine implements TransferEngine {
    private static final System.Logger LOG = System.getLogger(DefaultTransferEngine.class.getName());

    private final EngineConfig config;
    private final String providerName;
    private final ProviderFabric fabric;
    private final Worker[] workers;
    private final int[] cudaGroups;
    private final long[] maxMessageBytes;
    private final long linkSpeed;
    private final ImmTable imms;
    private final DeviceBackends devices;
    private final Watchdog watchdog;
    /** The owner's side of the same-host GPU path; null without CUDA groups or with {@code cudaIpc=false}. */
    private final DeviceShares deviceShares;
    private final RequestValidator validator = new RequestValidator(this);
    private final long operationTimeoutNanos;
    private final ThreadingMode threadingMode;
    private final EngineSettings settings;
    private final CountersBlock counters;
    /** The memory-mapped counters file, or null (counters in this process only). Deleted by close. */
    private final CountersFile countersFile;
    private final AtomicInteger activeCallers = new AtomicInteger();
    private volatile boolean closed;
    private final Object closeLock = new Object();
    private boolean closeDone;

    DefaultTransferEngine(EngineConfig config) {
        this.config = config;
        this.operationTimeoutNanos = config.operationTimeout().toNanos();
        // Every engine option is read and checked before anything native is opened: a bad value leaks nothing.
        this.settings = EngineSettings.from(config);
        this.threadingMode = settings.threadingMode();
        Providers.Selected selected = Providers.select(config.provider(), providerOptions(config, settings));
        this.providerName = selected.provider().name();
        int totalNics = config.groups().stream().mapToInt(GroupSpec::nics).sum();
        this.fabric = selected.provider().open(selected.options(), totalNics);
        List<GroupSpec> groups = config.groups();
        this.workers = new Worker[groups.size()];
        this.cudaGroups = groups.stream().mapToInt(GroupSpec::cudaDevice).toArray();
        this.maxMessageBytes = new long[groups.size()];
        this.devices = DeviceBackends.forGroups(config);
        this.deviceShares = devices.isAvailable() && settings.cudaIpc() ? new DeviceShares() : null;
        StagingSettings staging = settings.staging();
        try {
            List<List<DomainInfo>> assignment = assignDomains(fabric.domains(), groups);
            this.countersFile = openCountersFile(config, settings, assignment, providerName);
            this.counters = countersFile != null ? countersFile.counters()
                    : CountersBlock.inMemory(layout(assignment), config.name(), providerName);
            for (int g = 0; g < workers.length; g++) {
                int cuda = groups.get(g).cudaDevice();
                workers[g] = new Worker(this, g, fabric, assignment.get(g), groups.get(g).pinCpu(),
                        cuda >= 0 && devices.isAvailable() ? devices.backend() : null, cuda, staging,
                        config.requestQueueCapacity(), config.idleStrategy().get(), threadingMode,
                        config.transferTimeout().toNanos(), config.name(), counters.group(g));
            }
            this.imms = new ImmTable(workers[0].dispatcher().executor());
            for (Worker w : workers) {
                w.start(operationTimeoutNanos);
            }
            long speed = 0;
            for (int g = 0; g < workers.length; g++) {
                DomainGroup dg = workers[g].domains();
                for (int i = 0; i < dg.size(); i++) {
                    speed += dg.domain(i).capabilities().linkSpeedBitsPerSec();
                }
                // The provider's own limit (the domains the worker holds report none: they split writes).
                maxMessageBytes[g] = workers[g].messageLimit();
            }
            this.linkSpeed = speed;
            this.watchdog = new Watchdog(config.name(), workers, config.watchdogBound());
            watchdog.start();
        } catch (RuntimeException | Error e) {
            closeSharedAfter(stopWorkers(System.nanoTime() + operationTimeoutNanos, null));
            throw e;
        }
    }

    /**
     * The provider options plus {@code libfabric.cudaDevices}: the CUDA ordinals of the groups, so the libfabric
     * provider asks for {@code FI_HMEM} when device memory will be registered, and {@code loopback.copyStreams} and
     * {@code loopback.coalesceCopies} from the engine's {@code copyStreams} and {@code coalesceCopies} (an explicit
     * value wins).
     */
    private static java.util.Map<String, String> providerOptions(EngineConfig config, EngineSettings settings) {
        String ordinals = config.groups().stream().mapToInt(GroupSpec::cudaDevice).filter(d -> d >= 0).distinct()
                .mapToObj(Integer::toString).collect(java.util.stream.Collectors.joining(","));
        java.util.Map<String, String> options = new java.util.LinkedHashMap<>(config.providerOptions());
        if (!ordinals.isEmpty()) {
            options.putIfAbsent("libfabric.cudaDevices", ordinals);
        }
        options.putIfAbsent(LoopbackOptions.COPY_STREAMS, Integer.toString(settings.copyStreams()));
        options.putIfAbsent(LoopbackOptions.COALESCE_COPIES, Boolean.toString(settings.coalesceCopies()));
        return options;
    }

    /** Explicit names first, then the remaining domains in the provider's order (reused round-robin when short). */
    private static List<List<DomainInfo>> assignDomains(List<DomainInfo> available, List<GroupSpec> groups) {
        if (available.isEmpty()) {
            throw new TransferException(ErrorCategory.UNAVAILABLE, "the provider lists no domains (NICs)");
        }
        Set<String> named = new HashSet<>();
        for (GroupSpec g : groups) {
            for (String n : g.domainNames()) {
                if (!named.add(n)) {
                    throw new InvalidRequestException("domain '" + n + "' is assigned to more than one NIC slot");
                }
            }
        }
        List<DomainInfo> unnamed = new ArrayList<>();
        for (DomainInfo d : available) {
            if (!named.contains(d.name())) {
                unnamed.add(d);
            }
        }
        int next = 0;
        List<List<DomainInfo>> out = new ArrayList<>();
        for (GroupSpec g : groups) {
            List<DomainInfo> mine = new ArrayList<>();
            if (!g.domainNames().isEmpty()) {
                for (String n : g.domainNames()) {
                    mine.add(available.stream().filter(d -> d.name().equals(n)).findFirst().orElseThrow(() ->
                            new InvalidRequestException("no domain named '" + n + "'; the provider offers "
                                    + available.stream().map(DomainInfo::name).toList())));
                }
            } else {
                List<DomainInfo> pool = unnamed.isEmpty() ? available : unnamed;
                for (int i = 0; i < g.nics(); i++) {
                    mine.add(pool.get(next++ % pool.size()));
                }
            }
            out.add(mine);
        }
        return out;
    }

    private static CountersLayout layout(List<List<DomainInfo>> assignment) {
        return new CountersLayout(assignment.stream().mapToInt(List::size).toArray());
    }

    /** The counters file the builder asked for ({@code countersFile}), or null. */
    private static CountersFile openCountersFile(EngineConfig config, EngineSettings settings,
                                                 List<List<DomainInfo>> assignment, String provider) {
        String path = settings.countersFile();
        return path == null ? null
                : CountersFile.create(java.nio.file.Path.of(path), layout(assignment), config.name(), provider);
    }

    @Override
    public EngineCounters counters() {
        return counters;
    }

    /** The engine's options as read at construction ({@link EngineSettings}). */
    EngineSettings settings() {
        return settings;
    }

    /** CUDA streams per device copy queue (engine option {@code copyStreams}). */
    int copyStreams() {
        return settings.copyStreams();
    }

    /** Whether contiguous device copies are merged (engine option {@code coalesceCopies}). */
    boolean coalesceCopies() {
        return settings.coalesceCopies();
    }

    /** How long a dedicated worker keeps polling after its last work (engine option {@code idleGraceMicros}). */
    long idleGraceNanos() {
        return settings.idleGraceNanos();
    }

    DeviceShares deviceShares() {
        return deviceShares;
    }

    ImmTable imms() {
        return imms;
    }

    /**
     * The provider's maximum message size in {@code group}: the limit for a SEND and a receive buffer. Writes
     * have none: longer ones are split ({@link SplittingDomain}).
     */
    long maxMessageBytes(int group) {
        return maxMessageBytes[group];
    }

    // ---------------------------------------------------------------- topology

    @Override
    public String providerName() {
        return providerName;
    }

    @Override
    public DomainAddress mainAddress() {
        return workers[0].domains().domain(0).address();
    }

    @Override
    public int groupCount() {
        return workers.length;
    }

    @Override
    public int nicCount(int group) {
        return worker(group).domains().size();
    }

    @Override
    public List<DomainAddress> addresses(int group) {
        return worker(group).addresses();
    }

    @Override
    public long linkSpeedBitsPerSecond() {
        return linkSpeed;
    }

    Worker worker(int group) {
        if (group < 0 || group >= workers.length) {
            throw new InvalidRequestException("group " + group + " out of range: the engine has " + workers.length);
        }
        return workers[group];
    }

    @Override
    public GroupInvoker invoker(int group) {
        Worker w = worker(group);
        if (!(w.driver() instanceof WorkerInvoker invoker)) {
            throw new InvalidRequestException("group " + group + " runs on its own worker thread: build the engine"
                    + " with threadingMode(ThreadingMode.INVOKER) to drive it from the application's threads");
        }
        return invoker;
    }

    /** The threading mode the engine was built with. */
    public ThreadingMode threadingMode() {
        return threadingMode;
    }

    /** Where each worker's pinning request ended ("pinned to CPU 3", or the reason it was not possible). */
    public List<String> pinningOutcomes() {
        List<String> out = new ArrayList<>();
        for (Worker w : workers) {
            out.add(w.pinningOutcome());
        }
        return out;
    }

    @Override
    public EngineHealth health() {
        return watchdog.health(closed);
    }

    /** Imm events dropped because no {@link #onImm} handler was registered. */
    public long unhandledImms() {
        return imms.unhandledImms();
    }

    // ---------------------------------------------------------------- memory

    @Override
    public MemoryRegion register(MemorySegment segment, Device device, Access access) {
        if (segment == null || device == null || access == null) {
            throw new InvalidRequestException("segment, device and access must not be null");
        }
        if (!segment.isNative()) {
            throw new InvalidRequestException("only native memory can be registered (got a heap segment); allocate it from an Arena");
        }
        if (segment.byteSize() == 0) {
            throw new InvalidRequestException("cannot register an empty segment");
        }
        if (!segment.scope().isAlive()) {
            throw new ClosedException("the segment's arena is already closed");
        }
        if (device.kind() == Device.Kind.CUDA) {
            return registerDevice(segment.address(), segment.byteSize(), device.index(), access);
        }
        worker(device.index());
        Worker w = workers[device.index()];
        return enter(() -> w.call(() -> w.register(segment, access), operationTimeoutNanos));
    }

    @Override
    public MemoryRegion registerDevice(long devicePointer, long lengthBytes, int cudaOrdinal, Access access) {
        if (access == null) {
            throw new InvalidRequestException("access must not be null");
        }
        if (devicePointer == 0 || lengthBytes <= 0 || devicePointer + lengthBytes - 1 < devicePointer - 1) {
            throw new InvalidRequestException("device memory needs a non-null pointer and a length > 0 that does not"
                    + " wrap around the address space, got pointer 0x" + Long.toHexString(devicePointer) + ", length "
                    + lengthBytes);
        }
        int group = cudaGroup(cudaOrdinal);
        DeviceBackend backend = devices.require();
        // Checked here, on the caller's thread, before anything reaches a NIC.
        DeviceBackend.DeviceAllocation allocation = backend.checkRange(cudaOrdinal, devicePointer, lengthBytes);
        DeviceMemory memory = new DeviceMemory(devicePointer, lengthBytes, cudaOrdinal, allocation, backend);
        Worker w = workers[group];
        return enter(() -> w.call(() -> w.registerDevice(memory, access), operationTimeoutNanos));
    }

    /** The group configured for CUDA device {@code ordinal}. */
    private int cudaGroup(int ordinal) {
        for (int g = 0; g < cudaGroups.length; g++) {
            if (cudaGroups[g] == ordinal) {
                return g;
            }
        }
        throw new InvalidRequestException("no group is configured for CUDA device " + ordinal
                + ": add one with GroupSpec.withCudaDevice(" + ordinal + ")");
    }

    void unregister(Region region) {
        if (!region.markClosed() || closed) {
            return; // already closed, or the closing engine deregisters everything itself
        }
        Worker w = workers[region.group()];
        try {
            enter(() -> w.call(() -> {
                w.deregister(region);
                return null;
            }, operationTimeoutNanos));
        } catch (ClosedException e) {
            // engine closed meanwhile: its shutdown deregistered the region
        }
    }

    // ---------------------------------------------------------------- transfers

    @Override
    public void submit(TransferRequest request, TransferCallback callback) {
        if (callback == null) {
            throw new InvalidRequestException("callback must not be null");
        }
        enqueue(request, callback);
    }

    @Override
    public CompletableFuture<Void> submit(TransferRequest request) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        enqueue(request, f);
        return f;
    }

    @Override
    public void submit(TransferRequest request, TransferCounter counter) {
        if (counter == null) {
            throw new InvalidRequestException("counter must not be null");
        }
        enqueue(request, counter);
    }

    @Override
    public void submit(TransferRequest[] requests, int from, int count, TransferCounter counter) {
        if (requests == null || counter == null) {
            throw new InvalidRequestException("requests and counter must not be null");
        }
        if (from < 0 || count < 0 || from > requests.length - count) {
            throw new InvalidRequestException("batch [" + from + ", " + from + " + " + count + ") is outside an array of "
                    + requests.length);
        }
        enqueueBatch(null, requests, from, count, counter);
    }

    @Override
    public void submit(List<? extends TransferRequest> requests, TransferCounter counter) {
        if (requests == null || counter == null) {
            throw new InvalidRequestException("requests and counter must not be null");
        }
        enqueueBatch(requests, null, 0, requests.size(), counter);
    }

    /**
     * Validates the whole batch (nothing is queued when one request is bad), then hands each run of consecutive
     * requests of one group to its worker with one queue claim and one wake-up (more when the queue has less room).
     */
    private void enqueueBatch(List<? extends TransferRequest> list, TransferRequest[] array, int from, int count,
                              TransferCounter counter) {
        activeCallers.incrementAndGet();
        try {
            checkOpen();
            for (int i = from; i < from + count; i++) {
                validator.validate(array != null ? array[i] : list.get(i));
            }
            int runStart = from;
            while (runStart < from + count) {
                int group = RequestValidator.groupOf(array != null ? array[runStart] : list.get(runStart));
                int runEnd = runStart + 1;
                while (runEnd < from + count
                        && RequestValidator.groupOf(array != null ? array[runEnd] : list.get(runEnd)) == group) {
                    runEnd++;
                }
                offerBatch(workers[group], list, array, runStart, runEnd - runStart, counter);
                runStart = runEnd;
            }
        } finally {
            activeCallers.decrementAndGet();
        }
    }

    /** {@link #offer} for a run of one group's requests. Caller holds activeCallers. */
    private void offerBatch(Worker w, List<? extends TransferRequest> list, TransferRequest[] array, int from,
                            int count, Object completion) {
        long deadline = 0;
        int spins = 0;
        while (count > 0) {
            int queued = w.offerBatch(list, array, from, count, completion);
            from += queued;
            count -= queued;
            if (queued > 0 || count == 0) {
                spins = 0;
                deadline = 0;
                continue;
            }
            checkOpen();
            if (deadline == 0) {
                deadline = System.nanoTime() + operationTimeoutNanos;
            } else if (System.nanoTime() - deadline > 0) {
                throw new TransferException(ErrorCategory.BACK_PRESSURE, "the request queue stayed full for the "
                        + "operation timeout; the worker is not keeping up (" + count + " requests of the batch were"
                        + " not queued)");
            }
            awaitRoom(w, ++spins);
        }
    }

    private void enqueue(TransferRequest request, Object completion) {
        activeCallers.incrementAndGet();
        try {
            checkOpen();
            int group = validator.validate(request);
            offer(workers[group], request, completion);
        } finally {
            activeCallers.decrementAndGet();
        }
    }

    /** Offers to a worker, waiting for space up to the operation timeout. Caller holds activeCallers. */
    private void offer(Worker w, Object payload, Object completion) {
        if (w.offer(payload, completion)) {
            return;
        }
        long deadline = System.nanoTime() + operationTimeoutNanos;
        int spins = 0;
        while (!w.offer(payload, completion)) {
            checkOpen();
            if (System.nanoTime() - deadline > 0) {
                throw new TransferException(ErrorCategory.BACK_PRESSURE, "the request queue stayed full for the "
                        + "operation timeout; the worker is not keeping up");
            }
            awaitRoom(w, ++spins);
        }
    }

    /**
     * One wait for space in {@code w}'s request queue. In invoker mode the waiting thread runs the group's duty cycle
     * (it may be the only thread that ever does: an application that submits more than the queue holds before it
     * invokes); otherwise, or when another thread is invoking, it spins, then parks.
     */
    private static void awaitRoom(Worker w, int spins) {
        if (w.driver() instanceof WorkerInvoker invoker && invoker.assist() > 0) {
            return;
        }
        if (spins < 100) {
            Thread.onSpinWait();
        } else {
            LockSupport.parkNanos(10_000);
        }
    }

    @Override
    public void send(DomainAddress destination, MemoryRegion src, long offset, long length, TransferCallback callback) {
        if (callback == null) {
            throw new InvalidRequestException("callback must not be null");
        }
        enqueueSend(destination, src, offset, length, callback);
    }

    @Override
    public CompletableFuture<Void> send(DomainAddress destination, MemoryRegion src, long offset, long length) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        enqueueSend(destination, src, offset, length, f);
        return f;
    }

    private void enqueueSend(DomainAddress destination, MemoryRegion src, long offset, long length, Object completion) {
        if (destination == null) {
            throw new InvalidRequestException("destination must not be null");
        }
        activeCallers.incrementAndGet();
        try {
            checkOpen();
            Region region = validator.ownRegion(src, "send source");
            if (region.group() != 0) {
                throw new InvalidRequestException("sends go out on group 0's main NIC: register the source with Device.host()");
            }
            RequestValidator.inRange(offset, length, region.lengthBytes(), "send source");
            long max = maxMessageBytes[0];
            if (length > max) {
                throw new InvalidRequestException("a send of " + length + " bytes exceeds the provider's maximum of " + max);
            }
            offer(workers[0], new Worker.SendPayload(destination, region, offset, length), completion);
        } finally {
            activeCallers.decrementAndGet();
        }
    }

    @Override
    public ReceiveSet postReceives(int bufferBytes, int count, ReceiveHandler handler) {
        if (bufferBytes < 1 || count < 1 || handler == null) {
            throw new InvalidRequestException("postReceives needs bufferBytes >= 1, count >= 1 and a handler");
        }
        if ((long) bufferBytes * count > (1L << 34)) {
            throw new InvalidRequestException("receive buffers of " + bufferBytes + " x " + count + " bytes are too large");
        }
        if (bufferBytes > maxMessageBytes[0]) {
            throw new InvalidRequestException("receive buffer of " + bufferBytes + " bytes exceeds the provider's maximum of "
                    + maxMessageBytes[0]);
        }
        Worker w = workers[0];
        return enter(() -> {
            ReceiveSetImpl set = new ReceiveSetImpl(bufferBytes, count, handler);
            try {
                w.call(() -> w.addReceiveSet(set), operationTimeoutNanos);
            } catch (RuntimeException e) {
                set.close();
                if (set.region == null) {
                    set.arena.close();
                }
                throw e;
            }
            return set;
        });
    }

    // ---------------------------------------------------------------- imms

    @Override
    public ImmExpectation expectImms(int imm, long count, Runnable onReached) {
        checkOpen();
        return imms.expect(imm, count, onReached);
    }

    @Override
    public ImmCounter immCounter(int imm) {
        checkOpen();
        return imms.counter(imm);
    }

    @Override
    public boolean removeImmCounter(int imm) {
        return imms.remove(imm);
    }

    @Override
    public Subscription onImm(IntConsumer handler) {
        checkOpen();
        return imms.addHandler(handler);
    }

    // ---------------------------------------------------------------- lifecycle

    private void checkOpen() {
        if (closed) {
            throw new ClosedException("engine is closed");
        }
        for (Worker w : workers) {
            w.throwIfFailed();
        }
    }

    private <T> T enter(java.util.function.Supplier<T> action) {
        activeCallers.incrementAndGet();
        try {
            checkOpen();
            return action.get();
        } finally {
            activeCallers.decrementAndGet();
        }
    }

    @Override
    public void close() {
        synchronized (closeLock) {
            if (closeDone) {
                return;
            }
            closed = true;
            // Bounded, also with a worker stuck in a native call: each of the three waits below (callers,
            // workers, callbacks) takes at most one operation timeout, shared by all groups.
            // Submitters that saw "open" finish enqueueing before the workers drain for the last time.
            long deadline = System.nanoTime() + operationTimeoutNanos;
            while (activeCallers.get() > 0 && System.nanoTime() - deadline < 0) {
                Thread.onSpinWait();
            }
            List<Worker> leftBehind = stopWorkers(System.nanoTime() + operationTimeoutNanos, watchdog);
            watchdog.stop(Watchdog.STACK_WAIT_NANOS);
            closeSharedAfter(leftBehind);
            long callbacksDeadline = System.nanoTime() + operationTimeoutNanos;
            for (Worker w : workers) {
                if (w != null) {
                    w.dispatcher().shutdown(Math.max(1, callbacksDeadline - System.nanoTime()));
                }
            }
            closeDone = true;
        }
    }

    /**
     * Asks every worker to stop and waits for all of them until {@code deadline}. A worker still running then is
     * stuck (a native call that does not return) and is left behind: it cannot be stopped, and what it owns cannot
     * be freed from here (its domains and registrations are in use by the call; freeing them could crash the
     * process). Its queued requests and pending calls are failed now ({@link Worker#abandon}); its accepted
     * transfers stay its own and are failed or completed by it, exactly once, if the call ever returns.
     */
    private List<Worker> stopWorkers(long deadline, Watchdog watch) {
        for (Worker w : workers) {
            if (w != null) {
                w.requestStop();
            }
        }
        List<Worker> leftBehind = new ArrayList<>();
        for (Worker w : workers) {
            if (w != null && !w.join(Math.max(1, deadline - System.nanoTime()))) {
                leftBehind.add(w);
            }
        }
        for (Worker w : leftBehind) {
            if (watch != null) {
                watch.leftBehind(w);
            }
            int failed = w.abandon(Math.max(TimeUnit.MILLISECONDS.toNanos(100), deadline - System.nanoTime()));
            String what = "worker " + w.group() + " (thread " + w.threadName() + ") did not stop within the"
                    + " operation timeout: it is probably stuck in a native call and is left behind. "
                    + (failed >= 0 ? failed + " queued requests failed with CLOSED; "
                                   : "its queue could not be taken over, queued requests stay with it; ")
                    + "its " + w.inFlight() + " accepted transfers, its regions and its NICs stay with the thread, which"
                    + " fails or completes those transfers and frees the rest if the call ever returns; the fabric is"
                    + " closed after it ends.";
            Thread t = w.thread();
            Throwable stack = t == null ? null : Watchdog.stackOf(t, Watchdog.STACK_WAIT_NANOS);
            LOG.log(Level.ERROR, what + (stack == null ? " Its stack could not be taken (a critical native call?)."
                    : " Its stack:"), stack);
        }
        return leftBehind;
    }

    /**
     * Closes what the workers share (the fabric, and the same-host GPU shares, which a worker's copies may be
     * using) now, or, when workers were left behind, once the last of them has ended (on that thread).
     */
    private void closeSharedAfter(List<Worker> leftBehind) {
        if (leftBehind.isEmpty()) {
            closeShared();
            return;
        }
        CompletableFuture<?>[] ends = leftBehind.stream().map(Worker::terminated).toArray(CompletableFuture[]::new);
        CompletableFuture.allOf(ends).thenRun(() -> {
            try {
                closeShared();
                LOG.log(Level.WARNING, "the workers left behind at close have ended; fabric closed");
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "closing the fabric after the left-behind workers ended failed", e);
            }
        });
    }

    private void closeShared() {
        try {
            fabric.close();
        } finally {
            if (deviceShares != null) {
                deviceShares.close();
            }
            if (countersFile != null) {
                try {
                    countersFile.close(); // deletes the file; counters() keeps the last values
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "deleting the counters file failed", e);
                }
            }
        }
    }

    @Override
    public String toString() {
        return "TransferEngine[" + config.name() + ", provider=" + providerName + ", groups=" + workers.length
                + (closed ? ", closed" : "") + "]";
    }
}
