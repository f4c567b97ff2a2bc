package dev.transferengine.core;

import dev.transferengine.api.Access;
import dev.transferengine.api.Barrier;
import dev.transferengine.api.Device;
import dev.transferengine.api.ClosedException;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.IdleStrategy;
import dev.transferengine.api.ImmWrite;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.Scatter;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferRequest;
import dev.transferengine.api.TransferTimeoutException;
import dev.transferengine.core.ffm.Libc;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceMemory;
import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.spi.RegisteredMemory;

import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * The worker of one group: an agent whose {@link #doWork()} takes requests from the group's queue,
 * posts their writes over the group's NICs, polls every NIC's completion queue (receive-only ones too:
 * providers make progress only when polled), expires transfers past their deadline, and hands outcomes
 * to the {@link CompletionDispatcher}. It owns its domains: they are opened, used and closed on this
 * thread only. API threads reach it through the request queue and the call queue.
 */
final class Worker implements Runnable, CompletionSink, RequestQueue.Drain {
    private static final System.Logger LOG = System.getLogger(Worker.class.getName());
    static final long RECEIVE_FLAG = 1L << 62;
    private static final int REQUESTS_PER_ITERATION = 64;
    private static final int WRITES_PER_TRANSFER_PER_ITERATION = 32;
    private static final int COMPLETIONS_PER_POLL = 64;

    /** A SEND waiting in the request queue. */
    record SendPayload(dev.transferengine.api.DomainAddress to, Region src, long offset, long length) {
    }

    private final DefaultTransferEngine engine;
    private final int group;
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
    private final ConcurrentLinkedQueue<Integer> reposts = new ConcurrentLinkedQueue<>();
    private final CompletionDispatcher dispatcher;
    private final IdleStrategy idle;
    private final long transferTimeoutNanos;
    private final TransferPool pool = new TransferPool(1024);
    private final WriteOp op = new WriteOp();
    private final Set<Region> regions = new LinkedHashSet<>();
    private final List<ReceiveSetImpl> receiveSets = new ArrayList<>();
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    /** Completed when the thread is about to end, after {@link #shutdown()} (or after a failed start). */
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    /** Cycles completed, for the {@link Watchdog}. Written once per pass of the loop in {@link #run()}. */
    private final Heartbeat heartbeat = new Heartbeat();
    private final Thread thread;

    private DomainGroup domains;
    private PendingTransfer[] postQueue = new PendingTransfer[1024];
    private int[] postGenerations = new int[1024];
    private int postHead;
    private int postSize;
    private ReceiveSetImpl[] receiveSlotSet = new ReceiveSetImpl[0];
    private int[] receiveSlotIndex = new int[0];
    private final ArrayList<Integer> receiveRetries = new ArrayList<>();
    /** Bit i set: NIC i answered RETRY in this iteration, so nothing more is posted to it until after a poll. */
    private long refusingNics;
    private volatile boolean stopRequested;
    /** Why the worker stopped on its own (a provider threw from poll, a bug); null while healthy. */
    private volatile Throwable failure;
    /** True while the worker may be parked in its idle strategy; producers then unpark it. */
    private volatile boolean sleeping;
    private volatile String pinningOutcome = "not requested";
    /**
     * The smallest maximum message size of the group's NICs as the provider reports it: the limit for SENDs and
     * receive buffers (writes are split, {@link SplittingDomain}). Set before {@link #start} returns.
     */
    private long messageLimit;
    private long iterations;

    Worker(DefaultTransferEngine engine, int group, ProviderFabric fabric, List<DomainInfo> domainInfos, int pinCpu,
           DeviceBackend deviceBackend, int cudaDevice, StagingSettings staging, int queueCapacity, IdleStrategy idle,
           long transferTimeoutNanos, String name) {
        this.engine = engine;
        this.group = group;
        this.fabric = fabric;
        this.domainInfos = List.copyOf(domainInfos);
        this.pinCpu = pinCpu;
        this.deviceBackend = deviceBackend;
        this.cudaDevice = cudaDevice;
        this.staging = staging;
        this.ipc = deviceBackend != null && engine.deviceShares() != null ? new IpcWrites(deviceBackend, cudaDevice)
                : null;
        this.requests = new RequestQueue(queueCapacity);
        this.dispatcher = new CompletionDispatcher(name + "-callbacks-" + group);
        this.idle = idle;
        this.transferTimeoutNanos = transferTimeoutNanos;
        this.thread = new Thread(this, name + "-worker-" + group);
        this.thread.setDaemon(true);
    }

    // ---------------------------------------------------------------- lifecycle

    /** Starts the thread and waits until the domains are open (or failed to open). */
    void start(long timeoutNanos) {
        thread.start();
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

    @Override
    public void run() {
        try {
            if (pinCpu >= 0) {
                String failure = Libc.pinCurrentThread(pinCpu);
                pinningOutcome = failure == null ? "pinned to CPU " + pinCpu : failure;
                if (failure != null) {
                    LOG.log(Level.INFO, "worker " + group + " not pinned: " + failure);
                }
            }
            // Short idle parks must stay short: the default 50 µs slack would add that to every wake-up.
            Libc.setTimerSlackNanos(1_000);
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
                    SplittingDomain splitting = new SplittingDomain(opened[i]);
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
            domains = new DomainGroup(opened);
            messageLimit = limit;
            for (ProviderDomain d : opened) {
                d.setWakeup(this::wakeUp);
            }
            started.complete(null);
        } catch (Throwable t) {
            started.completeExceptionally(t);
            terminated.complete(null);
            return;
        }
        try {
            heartbeat.beatNow();
            while (!stopRequested) {
                int work = doWork();
                if (work > 0) {
                    idle.idle(work);
                    heartbeat.beat();
                    continue;
                }
                // Publish "may park" before the last look at the queues; a producer that enqueues after
                // the look sees the flag and unparks (both sides use volatile accesses: no lost wake-up
                // for requests and calls; an inbound provider event racing the flag waits one park at most).
                sleeping = true;
                if (requests.isEmpty() && calls.isEmpty() && reposts.isEmpty() && !stopRequested) {
                    idle.idle(0);
                }
                // Before clearing the flag: the watchdog never sees "not idle" with the time from before a park.
                heartbeat.beatNow();
                sleeping = false;
            }
        } catch (Throwable t) {
            failure = t;
            LOG.log(Level.ERROR, "worker " + group + " failed; failing its transfers", t);
        } finally {
            try {
                shutdown();
            } finally {
                terminated.complete(null);
            }
        }
    }

    /** One iteration; returns the amount of work done (0 lets the idle strategy back off). */
    int doWork() {
        int work = runCalls();
        work += requests.drain(this, REQUESTS_PER_ITERATION);
        work += progressPosts();
        for (int i = 0; i < domains.size(); i++) {
            work += domains.domain(i).poll(this, COMPLETIONS_PER_POLL);
        }
        work += repostReceives();
        if (ipc != null) {
            work += ipc.progress(this, domains);
        }
        if ((++iterations & 63) == 0 || work == 0) {
            work += expireTransfers(System.nanoTime());
        }
        return work;
    }

    void requestStop() {
        stopRequested = true;
        LockSupport.unpark(thread);
    }

    /** Waits for the thread to end. */
    boolean join(long timeoutNanos) {
        try {
            thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }

    CompletionDispatcher dispatcher() {
        return dispatcher;
    }

    // ---------------------------------------------------------------- watchdog and close (any thread)

    int group() {
        return group;
    }

    Thread thread() {
        return thread;
    }

    Heartbeat heartbeat() {
        return heartbeat;
    }

    /** True while the worker waits in its idle strategy (no native call in progress). */
    boolean isIdleWaiting() {
        return sleeping;
    }

    /** Why the worker stopped on its own, or null. */
    Throwable failure() {
        return failure;
    }

    /** Completes when the thread ends, after it freed what it owns. */
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
            pool.release(p);
            dispatcher.deliver(c, closed);
        }
        runCalls();
        for (Region r : regions) {
            r.markClosed();
            deregisterAll(r);
        }
        regions.clear();
        if (ipc != null) {
            ipc.close();
        }
        if (domains != null) {
            domains.close();
        }
        for (ReceiveSetImpl set : receiveSets) {
            set.close();
            set.arena.close();
        }
        receiveSets.clear();
    }

    // ---------------------------------------------------------------- API-thread entry points

    /** Offers a request; false when the queue is full. */
    boolean offer(Object payload, Object completion) {
        throwIfFailed();
        if (!requests.offer(payload, completion)) {
            return false;
        }
        wakeUp();
        return true;
    }

    /** Throws if the worker stopped on its own; the engine is then unusable and says why. */
    void throwIfFailed() {
        Throwable failed = failure;
        if (failed != null) {
            throw new TransferException(ErrorCategory.INTERNAL, "worker " + group + " stopped after a failure: "
                    + failed + "; close the engine", failed);
        }
    }

    /** Unparks the worker if it may be parked. Any thread; no allocation. */
    void wakeUp() {
        if (sleeping) {
            LockSupport.unpark(thread);
        }
    }

    /** Runs {@code task} on the worker thread and waits for its result. */
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
        wakeUp();
        try {
            return result.get(timeoutNanos, TimeUnit.NANOSECONDS);
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
        boolean remote = access == Access.REMOTE_WRITE;
        RegisteredMemory[] perNic = registerOnEveryNic(i -> domains.domain(i).register(segment, remote));
        return addRegion(Device.host(group), segment, segment.address(), segment.byteSize(), access, perNic, null);
    }

    /** Registers device memory (already checked by the device backend) on every NIC. Worker thread. */
    Region registerDevice(DeviceMemory memory, Access access) {
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
        return region;
    }

    /** Deregisters on every NIC. Worker thread. */
    void deregister(Region region) {
        if (regions.remove(region)) {
            deregisterAll(region);
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

    int openRegions() {
        return regions.size();
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

    /** The provider's maximum message size on this group's NICs (SENDs, receive buffers). */
    long messageLimit() {
        return messageLimit;
    }

    // ---------------------------------------------------------------- requests

    @Override
    public void accept(Object payload, Object completion) {
        PendingTransfer p = pool.acquire(System.nanoTime() + transferTimeoutNanos);
        if (p == null) {
            dispatcher.deliver(completion, new TransferException(ErrorCategory.BACK_PRESSURE,
                    "worker " + group + " has " + TransferPool.MAX_SLOTS + " transfers in flight"));
            return;
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
        } else {
            TransferRequest request = (TransferRequest) payload;
            p.src = sourceOf(request);
            domains.plan(p, request);
        }
        if (p.opCount == 0) {
            finish(p);
        } else {
            enqueuePost(p);
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

    private void enqueuePost(PendingTransfer p) {
        if (postSize == postQueue.length) {
            PendingTransfer[] q = new PendingTransfer[postQueue.length * 2];
            int[] g = new int[q.length];
            for (int i = 0; i < postSize; i++) {
                int j = (postHead + i) % postQueue.length;
                q[i] = postQueue[j];
                g[i] = postGenerations[j];
            }
            postQueue = q;
            postGenerations = g;
            postHead = 0;
        }
        int tail = (postHead + postSize) % postQueue.length;
        postQueue[tail] = p;
        postGenerations[tail] = p.generation;
        postSize++;
    }

    /** Posts up to a budget of writes for every transfer waiting to post, in FIFO order. */
    private int progressPosts() {
        int work = 0;
        refusingNics = 0;
        for (int n = postSize; n > 0; n--) {
            PendingTransfer p = postQueue[postHead];
            int generation = postGenerations[postHead];
            postQueue[postHead] = null;
            postHead = (postHead + 1) % postQueue.length;
            postSize--;
            if (p.generation != generation || !p.inFlight) {
                continue; // finished or expired while queued
            }
            work += postSome(p);
            if (p.nextOp < p.opCount) {
                enqueuePost(p);
            } else if (p.isFinished()) {
                finish(p);
            }
        }
        return work;
    }

    private int postSome(PendingTransfer p) {
        int posted = 0;
        while (p.nextOp < p.opCount && posted < WRITES_PER_TRANSFER_PER_ITERATION) {
            int rc;
            try {
                rc = p.kind == PendingTransfer.SEND ? postSend(p) : postWrite(p);
            } catch (TransferException e) {
                p.fail(e);
                break;
            } catch (RuntimeException e) {
                p.fail(new TransferException(ErrorCategory.PROVIDER, "posting failed: " + e, e));
                break;
            }
            if (rc == ProviderDomain.RETRY) {
                break;
            }
            p.nextOp++;
            p.posted++;
            posted++;
        }
        return posted;
    }

    private int postWrite(PendingTransfer p) {
        if (p.src != null && !p.src.isOpen()) {
            throw new ClosedException("source region was closed while the transfer was queued");
        }
        domains.computeOp(p, p.nextOp, op);
        if (ipc != null && IpcWrites.mayTake(op.region)) {
            int rc = ipc.post(op, domains.peer(op.nic, op.dst.address()), p.context());
            if (rc != IpcWrites.DECLINED) {
                return rc;
            }
        }
        long nicBit = 1L << op.nic;
        if ((refusingNics & nicBit) != 0) {
            // A full queue stays full until its completions are read: re-posting before the next poll
            // only burns native calls (with a window of queued writes, dozens per iteration).
            return ProviderDomain.RETRY;
        }
        long peer = domains.peer(op.nic, op.dst.address());
        int rc = domains.domain(op.nic).postWrite(peer, op.src, op.srcAddress, op.length, op.remoteAddress,
                op.dst.remoteKey(), op.withImm, op.imm, p.context());
        if (rc == ProviderDomain.RETRY) {
            refusingNics |= nicBit;
        }
        return rc;
    }

    private int postSend(PendingTransfer p) {
        if (!p.src.isOpen()) {
            throw new ClosedException("source region was closed while the send was queued");
        }
        if ((refusingNics & 1L) != 0) {
            return ProviderDomain.RETRY;
        }
        long peer = domains.peer(0, p.sendTo);
        int rc = domains.domain(0).postSend(peer, p.src.nic(0), p.src.address() + p.sendOffset, p.sendLength,
                p.context());
        if (rc == ProviderDomain.RETRY) {
            refusingNics |= 1L;
        }
        return rc;
    }

    private void finish(PendingTransfer p) {
        Object completion = p.completion;
        TransferException error = p.error;
        pool.release(p);
        dispatcher.deliver(completion, error);
    }

    private int expireTransfers(long now) {
        int expired = 0;
        for (PendingTransfer p = pool.oldest(); p != null && p.deadlineNanos - now <= 0; p = pool.oldest()) {
            TransferException e = new TransferTimeoutException("transfer did not complete within "
                    + TimeUnit.NANOSECONDS.toMillis(transferTimeoutNanos) + " ms: " + p.posted + " of " + p.opCount
                    + " writes posted, " + p.completed + " completed" + (p.error == null ? "" : "; first error: "
                    + p.error.getMessage()) + ". Its source buffer may still be read by the NIC.");
            Object completion = p.completion;
            pool.release(p);
            dispatcher.deliver(completion, e);
            expired++;
        }
        return expired;
    }

    int inFlight() {
        return pool.inFlight();
    }

    // ---------------------------------------------------------------- completions (inside poll)

    @Override
    public void onComplete(long context) {
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
            onReceiveError((int) context, error);
            return;
        }
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
        engine.imms().onImm(imm);
    }

    // ---------------------------------------------------------------- receives

    /** Adds a receive set and posts its buffers. Worker thread (through {@link #call}). */
    Void addReceiveSet(ReceiveSetImpl set) {
        set.region = register(set.buffers, Access.LOCAL);
        set.firstSlot = receiveSlotSet.length;
        int total = set.firstSlot + set.count;
        receiveSlotSet = Arrays.copyOf(receiveSlotSet, total);
        receiveSlotIndex = Arrays.copyOf(receiveSlotIndex, total);
        for (int i = 0; i < set.count; i++) {
            receiveSlotSet[set.firstSlot + i] = set;
            receiveSlotIndex[set.firstSlot + i] = i;
        }
        receiveSets.add(set);
        for (int i = 0; i < set.count; i++) {
            postReceive(set.firstSlot + i);
        }
        return null;
    }

    private void postReceive(int slot) {
        ReceiveSetImpl set = receiveSlotSet[slot];
        if (!set.isOpen() || stopRequested) {
            return;
        }
        int rc = domains.domain(0).postReceive(set.region.nic(0), set.sliceAddress(receiveSlotIndex[slot]),
                set.bufferBytes, RECEIVE_FLAG | slot);
        if (rc == ProviderDomain.RETRY) {
            receiveRetries.add(slot);
        }
    }

    @Override
    public void onReceive(long context, long lengthBytes) {
        int slot = (int) context;
        if (slot < 0 || slot >= receiveSlotSet.length) {
            return;
        }
        ReceiveSetImpl set = receiveSlotSet[slot];
        if (!set.isOpen()) {
            return;
        }
        set.countReceived();
        int index = receiveSlotIndex[slot];
        dispatcher.run(() -> {
            try {
                if (set.isOpen()) {
                    set.handler.onMessage(set.slice(index, lengthBytes));
                }
            } finally {
                reposts.add(slot);
                wakeUp();
            }
        });
    }

    private void onReceiveError(int slot, TransferException error) {
        if (slot < 0 || slot >= receiveSlotSet.length) {
            return;
        }
        ReceiveSetImpl set = receiveSlotSet[slot];
        dispatcher.run(() -> {
            try {
                if (set.isOpen()) {
                    set.handler.onError(error);
                }
            } finally {
                reposts.add(slot);
            }
        });
    }

    private int repostReceives() {
        int n = 0;
        if (!receiveRetries.isEmpty()) {
            List<Integer> retry = new ArrayList<>(receiveRetries);
            receiveRetries.clear();
            for (int slot : retry) {
                postReceive(slot); // not counted as work: a full queue must let the idle strategy back off
            }
        }
        for (Integer slot = reposts.poll(); slot != null; slot = reposts.poll()) {
            postReceive(slot);
            n++;
        }
        return n;
    }
}
