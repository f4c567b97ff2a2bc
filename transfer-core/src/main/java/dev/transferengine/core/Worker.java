package dev.transferengine.core;

import dev.transferengine.api.Access;
import dev.transferengine.api.Barrier;
import dev.transferengine.api.ClosedException;
import dev.transferengine.api.Counter;
import dev.transferengine.api.Device;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.IdleStrategy;
import dev.transferengine.api.ImmWrite;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.Scatter;
import dev.transferengine.api.ScatterTarget;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.ThreadingMode;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferRequest;
import dev.transferengine.api.TransferTimeoutException;
import dev.transferengine.core.counters.GroupCounters;
import dev.transferengine.core.ffm.Libc;
import dev.transferengine.core.jfr.RegistrationEvent;
import dev.transferengine.core.jfr.TransferErrorEvent;
import dev.transferengine.core.jfr.TransferEvent;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceMemory;
import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.spi.RegisteredMemory;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentTerminationException;

import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;

/**
 * The worker of one group, as an Agrona {@link Agent}: {@link #doWork()} is one duty cycle composed of small parts
 * (calls such as registrations, request intake, the {@link PostQueue}, completion polling of every NIC, receive
 * re-posts, the same-host GPU path, expiry), each returning the work it did. Who runs the cycle is the
 * {@link WorkerDriver}'s business: a dedicated thread ({@link DedicatedWorkerRunner}, Agrona's {@code AgentRunner})
 * or the application's threads ({@link WorkerInvoker}, Agrona's {@code AgentInvoker}); either way one thread at a
 * time runs it, and the group's domains are opened ({@link #onStart()}), used and closed ({@link #onClose()}) by
 * that one thread. API threads reach the worker through the request queue and the call queue.
 */
final class Worker implements Agent, CompletionSink, RequestQueue.Drain {
    private static final System.Logger LOG = System.getLogger(Worker.class.getName());
    static final long RECEIVE_FLAG = 1L << 62;
    private static final int REQUESTS_PER_CYCLE = 64;
    private static final int COMPLETIONS_PER_POLL = 64;

    /** A SEND waiting in the request queue. */
    record SendPayload(dev.transferengine.api.DomainAddress to, Region src, long offset, long length) {
    }

    private final DefaultTransferEngine engine;
    private final int group;
    /** This group's counters; written by whichever thread drives the group (one at a time). */
    private final GroupCounters counters;
    /** Tells whether a JFR recording wants transfer events (a flag check; never committed itself). */
    private final TransferEvent transferEvents = new TransferEvent();
    /** The NIC whose completions are being read (completion callbacks carry no NIC). */
    private int pollingNic;
    private final ProviderFabric fabric;
    private final List<DomainInfo> domainInfos;
    private final int pinCpu;
    /** The device backend when this group owns a CUDA device and the backend can run, else null. */
    private final DeviceBackend deviceBackend;
    private final int cudaDevice;
    private final StagingSettings staging;
    /** The same-host GPU path (CUDA IPC) when this group owns a GPU and the engine allows it, else null. */
    private final IpcWrites ipc;
    private final RequestQueue requests;
    private final ConcurrentLinkedQueue<Runnable> calls = new ConcurrentLinkedQueue<>();
    private final CompletionDispatcher dispatcher;
    private final long transferTimeoutNanos;
    private final TransferPool pool = new TransferPool(1024);
    private final PostQueue posts = new PostQueue(this);
    private final ReceivePosts receives;
    private final Set<Region> regions = new LinkedHashSet<>();
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    /** Completed after {@link #onClose()} freed what the worker owns (or after a failed start). */
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    /** Cycles completed, for the {@link Watchdog}; written by the driver once per cycle. */
    private final Heartbeat heartbeat = new Heartbeat();
    private final String name;
    private final WorkerDriver driver;

    private DomainGroup domains;
    private volatile boolean stopRequested;
    /** Why the worker stopped on its own (a provider threw from poll, a bug); null while healthy. */
    private volatile Throwable failure;
    private volatile String pinningOutcome = "not requested";
    /**
     * The smallest maximum message size of the group's NICs as the provider reports it: the limit for SENDs and
     * receive buffers (writes are split, {@link SplittingDomain}). Set before {@link #start} returns.
     */
    private long messageLimit;
    private long cycles;

    Worker(DefaultTransferEngine engine, int group, ProviderFabric fabric, List<DomainInfo> domainInfos, int pinCpu,
           DeviceBackend deviceBackend, int cudaDevice, StagingSettings staging, int queueCapacity, IdleStrategy idle,
           ThreadingMode mode, long transferTimeoutNanos, String name, GroupCounters counters) {
        this.engine = engine;
        this.counters = counters;
        this.group = group;
        this.fabric = fabric;
        this.domainInfos = List.copyOf(domainInfos);
        this.pinCpu = pinCpu;
        this.deviceBackend = deviceBackend;
        this.cudaDevice = cudaDevice;
        this.staging = staging;
        this.ipc = deviceBackend != null && engine.deviceShares() != null ? new IpcWrites(deviceBackend, cudaDevice,
                engine.copyStreams(), engine.coalesceCopies())
                : null;
        this.requests = new RequestQueue(queueCapacity);
        this.dispatcher = new CompletionDispatcher(name + "-callbacks-" + group);
        this.receives = new ReceivePosts(this, dispatcher);
        this.transferTimeoutNanos = transferTimeoutNanos;
        this.name = name + "-worker-" + group;
        this.driver = mode == ThreadingMode.INVOKER ? new WorkerInvoker(this)
                : new DedicatedWorkerRunner(this, idle, engine.idleGraceNanos());
    }

    // ---------------------------------------------------------------- lifecycle (the agent)

    @Override
    public String roleName() {
        return name;
    }

    /** Starts the driver and waits until the domains are open (or failed to open). */
    void start(long timeoutNanos) {
        driver.start();
        try {
            started.get(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw asTransferException(e.getCause(), "group " + group + " failed to open its NICs");
        } catch (TimeoutException e) {
            stopRequested = true;
            throw new TransferTimeoutException("group " + group + " did not open its NICs within the operation timeout");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClosedException("interrupted while starting group " + group);
        }
    }

    /**
     * Pins the thread (dedicated mode, when asked), then opens the domains on it. A failure completes
     * {@link #start}'s wait exceptionally and lets the first cycle end the agent.
     */
    @Override
    public void onStart() {
        try {
            if (driver.ownsThread()) {
                pinThread();
            } else {
                pinningOutcome = "invoker mode: the group runs on the threads that invoke it (pin those)";
            }
            openDomains();
            heartbeat.beatNow();
            started.complete(null);
        } catch (Throwable t) {
            stopRequested = true;
            started.completeExceptionally(t);
        }
    }

    private void pinThread() {
        if (pinCpu >= 0) {
            String failed = Libc.pinCurrentThread(pinCpu);
            pinningOutcome = failed == null ? "pinned to CPU " + pinCpu : failed;
            if (failed != null) {
                LOG.log(Level.INFO, "worker " + group + " not pinned: " + failed);
            }
        }
        // Short idle parks must stay short: the default 50 µs slack would add that to every wake-up.
        Libc.setTimerSlackNanos(1_000);
    }

    private void openDomains() {
        // Opened after pinning, so per-domain memory is allocated near the pinned CPU.
        ProviderDomain[] opened = new ProviderDomain[domainInfos.size()];
        long limit = Long.MAX_VALUE;
        try {
            for (int i = 0; i < opened.length; i++) {
                opened[i] = fabric.openDomain(domainInfos.get(i));
                // Writes longer than the provider's maximum message size are split into pieces. Innermost,
                // right at the NIC: every write is covered whoever posts it (the worker, or the staging
                // decorator, whose pieces are slot-sized and pass through unless a slot exceeds the limit);
                // the staging decorator keeps seeing plain completions for the contexts it posted (its own
                // piece flag, bit 63, is distinct from the splitter's bits 63+62); and the staging
                // decorator's instanceof checks on registrations stay untouched.
                SplittingDomain splitting = new SplittingDomain(opened[i], SplittingDomain.DEFAULT_MAX_WRITES,
                        transferTimeoutNanos);
                opened[i] = splitting;
                limit = Math.min(limit, splitting.messageLimit());
                if (deviceBackend != null) {
                    // Device memory the NIC cannot register is staged through pinned host buffers.
                    opened[i] = new StagingDomain(opened[i], deviceBackend, cudaDevice, staging);
                }
            }
        } catch (RuntimeException | Error e) {
            for (ProviderDomain d : opened) {
                if (d != null) {
                    d.close();
                }
            }
            throw e;
        }
        domains = new DomainGroup(group, opened);
        messageLimit = limit;
        for (ProviderDomain d : opened) {
            d.setWakeup(this::wakeUp);
        }
    }

    /**
     * One duty cycle; returns the amount of work done (0 lets the idle strategy back off). Ends the agent (an
     * {@link AgentTerminationException}, which its runner or invoker answers with {@link #onClose()}) once stop
     * was requested, or after anything throws: the worker then fails what it holds with {@code INTERNAL}.
     */
    @Override
    public int doWork() {
        if (stopRequested) {
            throw new AgentTerminationException("stop requested", true);
        }
        try {
            int work = runCalls();
            work += requests.drain(this, REQUESTS_PER_CYCLE);
            work += posts.progress();
            work += pollCompletions();
            work += receives.repost();
            if (ipc != null) {
                work += ipc.progress(this, domains);
            }
            if ((++cycles & 63) == 0 || work == 0) {
                work += expireTransfers(System.nanoTime());
            }
            return work;
        } catch (Throwable t) {
            failure = t;
            LOG.log(Level.ERROR, "worker " + group + " failed; failing its transfers", t);
            throw new AgentTerminationException(t, true);
        }
    }

    private int pollCompletions() {
        int work = 0;
        for (int i = 0; i < domains.size(); i++) {
            pollingNic = i;
            work += domains.domain(i).poll(this, COMPLETIONS_PER_POLL);
        }
        pollingNic = 0;
        return work;
    }

    /** Whether anything waits for the next cycle: requests, calls, receive re-posts, a stop. Worker thread. */
    boolean hasInput() {
        return !requests.isEmpty() || !calls.isEmpty() || receives.hasReposts() || stopRequested;
    }

    /** Frees what the worker owns (after failing what it holds); then {@link #terminated()} completes. */
    @Override
    public void onClose() {
        try {
            if (domains != null) {
                shutdown();
            } else if (ipc != null) {
                ipc.close();
            }
        } finally {
            terminated.complete(null);
        }
    }

    void requestStop() {
        stopRequested = true;
        driver.wakeUp();
    }

    /** Whether stop was requested (receives are no longer re-posted). */
    boolean isStopping() {
        return stopRequested;
    }

    /** Waits for the worker to end (its thread, or the closing thread taking over an invoker-mode group). */
    boolean join(long timeoutNanos) {
        return driver.join(timeoutNanos);
    }

    CompletionDispatcher dispatcher() {
        return dispatcher;
    }

    WorkerDriver driver() {
        return driver;
    }

    // ---------------------------------------------------------------- watchdog and close (any thread)

    int group() {
        return group;
    }

    /** The thread running the duty cycle: the dedicated thread, or the one invoking now (null when none is). */
    Thread thread() {
        return driver.thread();
    }

    /** The name of {@link #thread()} for logs. */
    String threadName() {
        Thread t = driver.thread();
        return t != null ? t.getName() : name + " (invoker mode, not invoked now)";
    }

    Heartbeat heartbeat() {
        return heartbeat;
    }

    /** True while nothing runs the duty cycle: parked in the idle strategy, or (invoker mode) not invoked. */
    boolean isIdleWaiting() {
        return driver.isIdleWaiting();
    }

    /** Whether the worker ended: {@link #onClose()} ran (or the start failed). */
    boolean hasEnded() {
        return terminated.isDone();
    }

    /** Why the worker stopped on its own, or null. */
    Throwable failure() {
        return failure;
    }

    /** Completes when the worker ended, after it freed what it owns. */
    CompletableFuture<Void> terminated() {
        return terminated;
    }

    /**
     * For a worker that did not stop within the close timeout (stuck in a native call), from the closing thread,
     * after {@link #requestStop()}: fails the requests still in the queue (the queue is {@linkplain
     * RequestQueue#takeOver taken over}, so the worker, if it ever comes back, cannot hand them out again) and
     * the pending {@link #call}s (each fails with {@link ClosedException} without running its task, since stop
     * was requested). Transfers the worker already accepted stay its own: their state is the worker's alone and
     * it may return from the native call at any moment; it fails them (or completes them) exactly once when it
     * does. Returns the number of queued requests failed, or -1 when the queue could not be taken over.
     */
    int abandon(long timeoutNanos) {
        ClosedException closed = new ClosedException("engine closed while the request was queued; worker " + group
                + " was stuck in a native call and never took it");
        int failed = requests.takeOver((payload, completion) -> dispatcher.deliver(completion, closed), timeoutNanos);
        for (Runnable r = calls.poll(); r != null; r = calls.poll()) {
            r.run();
        }
        return failed;
    }

    String pinningOutcome() {
        return pinningOutcome;
    }

    /** Fails everything still pending with "engine closed", deregisters, closes the domains. */
    private void shutdown() {
        Throwable failed = failure;
        TransferException closed = failed == null
                ? new ClosedException("engine closed while the transfer was in flight")
                : new TransferException(ErrorCategory.INTERNAL, "worker " + group + " failed: " + failed, failed);
        requests.drain((payload, completion) -> dispatcher.deliver(completion, closed), Integer.MAX_VALUE);
        for (PendingTransfer p = pool.oldest(); p != null; p = pool.oldest()) {
            Object c = p.completion;
            account(p, closed);
            pool.release(p);
            dispatcher.deliver(c, closed);
        }
        runCalls();
        for (Region r : regions) {
            r.markClosed();
            deregisterAll(r);
        }
        counters.add(Counter.OPEN_REGIONS, -regions.size());
        regions.clear();
        if (ipc != null) {
            ipc.close();
        }
        domains.close();
        receives.closeAll();
    }

    // ---------------------------------------------------------------- API-thread entry points

    /** Offers a request; false when the queue is full. */
    boolean offer(Object payload, Object completion) {
        throwIfFailed();
        if (!requests.offer(payload, completion)) {
            return false;
        }
        driver.wakeUp();
        return true;
    }

    /**
     * Offers {@code requests[from, from + count)} of a batch, all with {@code completion}, as one hand-off: claims
     * as many queue slots as are free (up to {@code count}) with one CAS and wakes the worker once. Returns how
     * many were queued (0 when the queue is full).
     */
    int offerBatch(List<? extends TransferRequest> list, TransferRequest[] array, int from, int count,
                   Object completion) {
        throwIfFailed();
        // All of it if the slots are free, else the largest power-of-two share that is (the queue frees in order).
        for (int n = Math.min(count, requests.capacity()); n > 0; n >>>= 1) {
            long first = requests.claim(n);
            if (first >= 0) {
                for (int i = 0; i < n; i++) {
                    TransferRequest r = array != null ? array[from + i] : list.get(from + i);
                    requests.publish(first + i, r, completion);
                }
                driver.wakeUp();
                return n;
            }
        }
        return 0;
    }

    /** Throws if the worker stopped on its own; the engine is then unusable and says why. */
    void throwIfFailed() {
        Throwable failed = failure;
        if (failed != null) {
            throw new TransferException(ErrorCategory.INTERNAL, "worker " + group + " stopped after a failure: "
                    + failed + "; close the engine", failed);
        }
    }

    /** Wakes the worker if it may be parked. Any thread; no allocation. */
    void wakeUp() {
        driver.wakeUp();
    }

    /** Runs {@code task} in the duty cycle and waits for its result (in invoker mode, driving the cycle). */
    <T> T call(Callable<T> task, long timeoutNanos) {
        throwIfFailed();
        CompletableFuture<T> result = new CompletableFuture<>();
        calls.add(() -> {
            if (stopRequested) {
                result.completeExceptionally(new ClosedException("engine closed"));
                return;
            }
            try {
                result.complete(task.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        driver.wakeUp();
        try {
            if (!driver.awaitCall(result, timeoutNanos)) {
                throw new TimeoutException();
            }
            return result.get();
        } catch (ExecutionException e) {
            throw asTransferException(e.getCause(), "operation on group " + group + " failed");
        } catch (TimeoutException e) {
            throw new TransferTimeoutException("operation on group " + group + " did not finish within the operation timeout");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClosedException("interrupted while waiting for group " + group);
        }
    }

    private static TransferException asTransferException(Throwable t, String context) {
        if (t instanceof TransferException te) {
            return te;
        }
        return new TransferException(ErrorCategory.PROVIDER, context + ": " + t, t);
    }

    private int runCalls() {
        int n = 0;
        for (Runnable r = calls.poll(); r != null; r = calls.poll()) {
            r.run();
            n++;
        }
        return n;
    }

    // ---------------------------------------------------------------- registration (worker thread)

    Region register(MemorySegment segment, Access access) {
        return recorded("register", "host", segment.byteSize(), () -> {
            boolean remote = access == Access.REMOTE_WRITE;
            RegisteredMemory[] perNic = registerOnEveryNic(i -> domains.domain(i).register(segment, remote));
            return addRegion(Device.host(group), segment, segment.address(), segment.byteSize(), access, perNic, null);
        });
    }

    /** Registers device memory (already checked by the device backend) on every NIC. Worker thread. */
    Region registerDevice(DeviceMemory memory, Access access) {
        return recorded("register", "cuda:" + memory.ordinal(), memory.lengthBytes(),
                () -> registerDeviceOnEveryNic(memory, access));
    }

    /** Runs a (de)registration as a {@link RegistrationEvent} (pinning pages can take long). */
    private <T> T recorded(String operation, String memory, long bytes, java.util.function.Supplier<T> action) {
        RegistrationEvent event = new RegistrationEvent();
        event.begin();
        String outcome = "OK";
        try {
            return action.get();
        } catch (TransferException e) {
            outcome = e.category().name();
            throw e;
        } catch (RuntimeException | Error e) {
            outcome = ErrorCategory.INTERNAL.name();
            throw e;
        } finally {
            event.end();
            if (event.shouldCommit()) {
                event.operation = operation;
                event.memory = memory;
                event.bytes = bytes;
                event.group = group;
                event.outcome = outcome;
                event.commit();
            }
        }
    }

    private Region registerDeviceOnEveryNic(DeviceMemory memory, Access access) {
        boolean remote = access == Access.REMOTE_WRITE;
        RegisteredMemory[] perNic;
        StagedTarget staged = null;
        try {
            perNic = registerOnEveryNic(i -> domains.domain(i).registerDevice(memory, remote));
        } catch (TransferException e) {
            if (!remote || e.category() != ErrorCategory.UNAVAILABLE) {
                throw e;
            }
            // The NICs cannot write GPU memory: peers write into a pinned host shadow, flushed on request.
            StagedTarget shadow = StagedTarget.allocate(memory);
            try {
                perNic = registerOnEveryNic(i -> domains.domain(i).register(shadow.shadow(), true));
            } catch (RuntimeException | Error registering) {
                shadow.close();
                throw registering;
            }
            staged = shadow;
        }
        DeviceShares shares = engine.deviceShares();
        // No IPC share for a staged target: same-host writers must land in the shadow like everyone else.
        RemoteRegion.DeviceShare share = remote && staged == null && shares != null ? shares.share(memory) : null;
        Region region = addRegion(Device.cuda(memory.ordinal()), MemorySegment.ofAddress(memory.address()),
                memory.address(), memory.lengthBytes(), access, perNic, share);
        region.stagedTarget(staged);
        return region;
    }

    private RegisteredMemory[] registerOnEveryNic(IntFunction<RegisteredMemory> registerOnNic) {
        RegisteredMemory[] perNic = new RegisteredMemory[domains.size()];
        try {
            for (int i = 0; i < perNic.length; i++) {
                perNic[i] = registerOnNic.apply(i);
            }
        } catch (RuntimeException e) {
            for (int i = 0; i < perNic.length && perNic[i] != null; i++) {
                domains.domain(i).deregister(perNic[i]);
            }
            throw e;
        }
        return perNic;
    }

    private Region addRegion(Device device, MemorySegment segment, long address, long length, Access access,
                             RegisteredMemory[] perNic, RemoteRegion.DeviceShare share) {
        RemoteRegion descriptor = null;
        if (access == Access.REMOTE_WRITE) {
            List<RemoteRegion.NicKey> keys = new ArrayList<>(perNic.length);
            for (int i = 0; i < perNic.length; i++) {
                keys.add(new RemoteRegion.NicKey(domains.domain(i).address(), perNic[i].remoteKey(),
                        perNic[i].remoteBase()));
            }
            descriptor = new RemoteRegion(address, length, keys, share);
        }
        Region region = new Region(engine, group, device, segment, address, length, access, perNic, descriptor);
        regions.add(region);
        counters.increment(Counter.OPEN_REGIONS);
        return region;
    }

    /** Deregisters on every NIC. Worker thread. */
    void deregister(Region region) {
        if (regions.remove(region)) {
            counters.add(Counter.OPEN_REGIONS, -1);
            recorded("deregister", region.device().kind() == Device.Kind.CUDA
                    ? "cuda:" + region.device().index() : "host", region.lengthBytes(), () -> {
                deregisterAll(region);
                return null;
            });
        }
    }

    private void deregisterAll(Region region) {
        if (region.sharedDescriptor() != null && engine.deviceShares() != null) {
            engine.deviceShares().release(region.sharedDescriptor()); // same-host writers are refused from now on
        }
        RegisteredMemory[] perNic = region.perNic();
        for (int i = 0; i < perNic.length; i++) {
            try {
                domains.domain(i).deregister(perNic[i]);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "deregistering on NIC " + i + " of group " + group + " failed", e);
            }
        }
        if (region.stagedTarget() != null) {
            region.stagedTarget().close(); // the NICs let go of the shadow above
        }
    }

    List<dev.transferengine.api.DomainAddress> addresses() {
        List<dev.transferengine.api.DomainAddress> out = new ArrayList<>(domains.size());
        for (int i = 0; i < domains.size(); i++) {
            out.add(domains.domain(i).address());
        }
        return out;
    }

    DomainGroup domains() {
        return domains;
    }

    /** This group's counters (the driving thread writes them). */
    GroupCounters counters() {
        return counters;
    }

    /** The same-host GPU path, or null. */
    IpcWrites ipc() {
        return ipc;
    }

    /** The provider's maximum message size on this group's NICs (SENDs, receive buffers). */
    long messageLimit() {
        return messageLimit;
    }

    // ---------------------------------------------------------------- requests (intake)

    @Override
    public void accept(Object payload, Object completion) {
        PendingTransfer p = pool.acquire(System.nanoTime() + transferTimeoutNanos);
        counters.increment(Counter.TRANSFERS_SUBMITTED);
        if (p == null) {
            counters.failed(ErrorCategory.BACK_PRESSURE);
            dispatcher.deliver(completion, new TransferException(ErrorCategory.BACK_PRESSURE,
                    "worker " + group + " has " + TransferPool.MAX_SLOTS + " transfers in flight"));
            return;
        }
        counters.increment(Counter.TRANSFERS_IN_FLIGHT);
        if (transferEvents.isEnabled()) {
            if (p.event == null) {
                p.event = new TransferEvent(); // once per pooled slot: later transfers re-arm it
            }
            p.event.begin();
            p.recording = true;
        }
        p.completion = completion;
        if (payload instanceof SendPayload s) {
            p.kind = PendingTransfer.SEND;
            p.src = s.src();
            p.sendTo = s.to();
            p.sendOffset = s.offset();
            p.sendLength = s.length();
            p.opCount = 1;
            p.nextOp = 0;
            p.bytes = s.length();
        } else {
            TransferRequest request = (TransferRequest) payload;
            p.src = sourceOf(request);
            p.bytes = bytesOf(request);
            domains.plan(p, request);
        }
        counters.add(Counter.BYTES_SUBMITTED, p.bytes);
        if (p.opCount == 0) {
            finish(p);
        } else {
            posts.add(p);
        }
    }

    private static Region sourceOf(TransferRequest request) {
        return switch (request) {
            case SingleWrite w -> (Region) w.src();
            case PagedWrite w -> (Region) w.src();
            case Scatter s -> (Region) s.src();
            case Barrier b -> null;
            case ImmWrite i -> null;
        };
    }

    /** Payload bytes of a request: what its writes carry in total. */
    private static long bytesOf(TransferRequest request) {
        return switch (request) {
            case SingleWrite w -> w.length();
            case PagedWrite w -> w.pageLength() * w.pageCount();
            case Scatter s -> {
                long sum = 0;
                List<ScatterTarget> targets = s.targets();
                for (int i = 0; i < targets.size(); i++) {
                    sum += targets.get(i).length();
                }
                yield sum;
            }
            case Barrier b -> 0;
            case ImmWrite i -> 0;
        };
    }

    /** Recycles {@code p} and delivers its outcome. Worker thread. */
    void finish(PendingTransfer p) {
        Object completion = p.completion;
        TransferException error = p.error;
        account(p, error);
        pool.release(p);
        dispatcher.deliver(completion, error);
    }

    /** Counts {@code p}'s outcome and records its JFR events; before {@code p} is released. */
    private void account(PendingTransfer p, TransferException error) {
        counters.add(Counter.TRANSFERS_IN_FLIGHT, -1);
        if (error == null) {
            counters.increment(Counter.TRANSFERS_COMPLETED);
        } else {
            counters.failed(error.category());
        }
        if (p.recording) {
            TransferEvent event = p.event;
            event.end();
            if (event.shouldCommit()) {
                event.kind = kindName(p.kind);
                event.bytes = p.bytes;
                event.writes = p.opCount;
                event.nics = domains.size();
                event.group = group;
                event.provider = engine.providerName();
                event.outcome = error == null ? "OK" : error.category().name();
                event.commit();
            }
        }
        if (error != null) {
            TransferErrorEvent event = new TransferErrorEvent();
            if (event.shouldCommit()) {
                event.group = group;
                event.kind = kindName(p.kind);
                event.category = error.category().name();
                event.providerCode = error.providerCode();
                event.message = error.getMessage();
                event.commit();
            }
        }
    }

    private static String kindName(int kind) {
        return switch (kind) {
            case PendingTransfer.SINGLE -> "single";
            case PendingTransfer.PAGED -> "paged";
            case PendingTransfer.SCATTER_PEERS, PendingTransfer.SCATTER_BYTES, PendingTransfer.SCATTER_PINNED -> "scatter";
            case PendingTransfer.BARRIER -> "barrier";
            case PendingTransfer.IMM -> "imm";
            case PendingTransfer.SEND -> "send";
            default -> "unknown";
        };
    }

    private int expireTransfers(long now) {
        int expired = 0;
        for (PendingTransfer p = pool.oldest(); p != null && p.deadlineNanos - now <= 0; p = pool.oldest()) {
            TransferException e = new TransferTimeoutException("transfer did not complete within "
                    + TimeUnit.NANOSECONDS.toMillis(transferTimeoutNanos) + " ms: " + p.posted + " of " + p.opCount
                    + " writes posted, " + p.completed + " completed" + (p.error == null ? "" : "; first error: "
                    + p.error.getMessage()) + ". Its source buffer may still be read by the NIC.");
            Object completion = p.completion;
            account(p, e);
            pool.release(p);
            dispatcher.deliver(completion, e);
            expired++;
        }
        return expired;
    }

    int inFlight() {
        return pool.inFlight();
    }

    /** Whether some thread of the application waits for imms that have not arrived (any group's). Any thread. */
    boolean immsAwaited() {
        return engine.imms().inboundAwaited();
    }

    // ---------------------------------------------------------------- completions (inside poll)

    @Override
    public void onComplete(long context) {
        counters.increment(pollingNic, Counter.WRITES_COMPLETED);
        PendingTransfer p = pool.byContext(context);
        if (p == null) {
            return; // expired earlier
        }
        p.completed++;
        if (p.isFinished()) {
            finish(p);
        }
    }

    @Override
    public void onError(long context, TransferException error) {
        if ((context & RECEIVE_FLAG) != 0) {
            receives.onError((int) context, error);
            return;
        }
        counters.increment(pollingNic, Counter.WRITE_ERRORS);
        PendingTransfer p = pool.byContext(context);
        if (p == null) {
            return;
        }
        p.fail(error);
        p.completed++;
        if (p.isFinished()) {
            finish(p);
        }
    }

    @Override
    public void onImm(int imm) {
        counters.increment(pollingNic, Counter.IMMS_RECEIVED);
        engine.imms().onImm(imm);
    }

    @Override
    public void onReceive(long context, long lengthBytes) {
        counters.increment(pollingNic, Counter.RECEIVES_COMPLETED);
        receives.onReceive((int) context, lengthBytes);
    }

    /** Adds a receive set and posts its buffers. Worker thread (through {@link #call}). */
    Void addReceiveSet(ReceiveSetImpl set) {
        return receives.add(set);
    }
}
