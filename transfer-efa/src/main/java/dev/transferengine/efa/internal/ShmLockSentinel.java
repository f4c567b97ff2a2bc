package dev.transferengine.efa.internal;

import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Watches one shm endpoint's peers for processes that died inside libfabric, and releases the spin locks they left
 * taken (issue 9; docs/reliability.md, "Recovering from a peer that died inside libfabric").
 *
 * <p>libfabric 1.17's shm guards each endpoint's shared region with a spin lock. A writer takes the target's lock to
 * queue a command; every endpoint takes its own to progress. A process killed while holding either leaves it taken
 * for good, and whoever needs it next spins in {@code pthread_spin_lock} forever: the survivor's worker (in
 * {@code fi_cq_read} when it was its own region's lock, in a post when it was the dead peer's), and with it every
 * transfer of the engine. No libfabric call can undo that, and the stuck worker cannot do it itself.
 *
 * <p>This daemon thread ({@code <endpoint>-shm-sentinel}), one per shm domain, wakes every {@link #PERIOD_NANOS}:
 * <ol>
 *   <li>It reads the endpoint's peer table from its region ({@link SmrRegion#peerNames}: every endpoint it exchanged
 *       addresses with, in either direction), maps each new peer's region while the file exists (so a dead peer's
 *       lock can be reached even after its file is unlinked), and asks the kernel whether each peer's process still
 *       exists ({@code kill(pid, 0)}). A live peer whose file is gone closed its endpoint: its mapping is dropped.</li>
 *   <li>For {@link #AFTER_DEATH_NANOS} after it found a peer dead, it checks its own region's lock and the dead
 *       peers' locks: one seen taken is sampled every {@link #SAMPLE_NANOS} and released when it stayed taken for
 *       {@code holdNanos} (default 1 s) without a break. A live holder keeps the lock for microseconds; a dead one
 *       forever.</li>
 *   <li>It bumps {@link #generation} when it finds a dead peer or releases a lock; the domain then answers, on its
 *       worker, the responses the dead peer will never write ({@link SmrRegion#failPendingResponses}).</li>
 * </ol>
 *
 * <p>Limits, said plainly: a live process descheduled for longer than {@code holdNanos} while holding this endpoint's
 * lock, within a minute after another peer died, would be taken for the dead holder (two threads would then share
 * the critical section); a dead process that never got into the region's peer table (it died holding the lock in its
 * very first post to this endpoint, before this endpoint progressed its connection request) is not recognised; a
 * peer killed between committing a command and counting it leaves the command queue's free count one too high (a
 * window of a few instructions).
 */
final class ShmLockSentinel implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ShmLockSentinel.class.getName());
    static final long PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    static final long SAMPLE_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    static final long AFTER_DEATH_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** {@code te.shm.deadLockHoldMillis}: how long a lock must stay taken, while a peer is dead, to be released. */
    static final long DEFAULT_HOLD_NANOS = TimeUnit.MILLISECONDS.toNanos(Long.getLong("te.shm.deadLockHoldMillis", 1000));

    private final SmrRegion own;
    private final long holdNanos;
    private final Thread thread;
    private volatile boolean stopped;
    /** Dead peer pid -> when it was found dead. Written by the sentinel, read by the worker. */
    private final Map<Integer, Long> deadSince = new ConcurrentHashMap<>();
    private final AtomicInteger generation = new AtomicInteger();
    /** Peer name -> its mapped region: written by {@link #watch} (the resolving thread) and the sentinel. */
    private final Map<String, SmrRegion> peerRegions = new ConcurrentHashMap<>();
    // sentinel thread only
    private final Map<String, Integer> peerPids = new HashMap<>();

    private ShmLockSentinel(SmrRegion own, long holdNanos, String name) {
        this.own = own;
        this.holdNanos = holdNanos;
        this.thread = new Thread(this::run, name + "-shm-sentinel");
        thread.setDaemon(true);
    }

    /**
     * Starts the sentinel of the endpoint whose region is {@code ownFile}; null when the region is not one this
     * class understands (not libfabric 1.17, or not mappable), and then nothing is repaired.
     */
    static ShmLockSentinel start(Path ownFile, long holdNanos) {
        SmrRegion region = SmrRegion.open(ownFile, PeerProcesses.OWN_PID);
        if (region == null) {
            LOG.log(Level.DEBUG, () -> "shm region " + ownFile + " is not a libfabric 1.17 region this engine can"
                    + " map: peers that die inside libfabric are not recovered from");
            return null;
        }
        ShmLockSentinel s = new ShmLockSentinel(region, holdNanos, ownFile.getFileName().toString());
        s.thread.start();
        return s;
    }

    /** This endpoint's region (the domain's worker answers dead peers' responses through it). */
    SmrRegion own() {
        return own;
    }

    /**
     * Maps the region of a peer this endpoint is about to post to (its raw shm address), so its lock can be reached
     * even if it dies, and its file is unlinked, before the sentinel's next pass. Any thread; a no-op when already
     * mapped or not mappable.
     */
    void watch(byte[] address) {
        Path file = RetiredEndpoints.shmFileOf(address);
        int pid = PeerProcesses.pidOf(address);
        if (file == null || pid == 0 || stopped) {
            return;
        }
        map(file.getFileName().toString(), pid);
    }

    /** Maps the region of peer {@code name} (of process {@code pid}) unless it is mapped; false when it cannot be. */
    private boolean map(String name, int pid) {
        return peerRegions.computeIfAbsent(name, n -> SmrRegion.open(Path.of("/dev/shm", n), pid)) != null;
    }

    /** Changes whenever a peer was found dead or a lock released. Any thread. */
    int generation() {
        return generation.get();
    }

    /** Whether the process {@code pid} was found dead. Any thread. */
    boolean isDead(int pid) {
        return deadSince.containsKey(pid);
    }

    private void run() {
        while (!stopped) {
            try {
                check(System.nanoTime());
            } catch (RuntimeException | Error e) {
                LOG.log(Level.WARNING, "shm sentinel of " + own.file() + ": check failed; continuing", e);
            }
            LockSupport.parkNanos(PERIOD_NANOS);
        }
    }

    /** One pass. Sentinel thread. */
    void check(long now) {
        for (String name : own.peerNames()) {
            Integer known = peerPids.get(name);
            if (known == null) {
                int pid = PeerProcesses.leadingPid(name, 0);
                peerPids.put(name, pid);
                if (pid != 0 && pid != PeerProcesses.OWN_PID && !map(name, pid)) {
                    LOG.log(Level.DEBUG, () -> "shm peer " + name + " of " + own.file() + ": its region cannot be"
                            + " mapped (file gone, or not a libfabric 1.17 region of pid " + pid + ")");
                }
                known = pid;
            }
            int pid = known;
            if (pid == 0 || pid == PeerProcesses.OWN_PID || deadSince.containsKey(pid)) {
                continue;
            }
            if (!Libc.processExists(pid)) {
                deadSince.put(pid, now);
                generation.incrementAndGet();
                SmrRegion theirs = peerRegions.get(name);
                LOG.log(Level.INFO, "shm peer " + name + " of " + own.file() + ": its process (pid " + pid
                        + ") is gone; checking the locks it may have left taken (own lock "
                        + (own.lockHeld() ? "taken" : "free") + ", the peer's region "
                        + (theirs == null ? "not mapped: its file was gone or not a libfabric 1.17 region"
                        : "lock " + (theirs.lockHeld() ? "taken" : "free")) + ")");
                continue;
            }
            SmrRegion mapped = peerRegions.get(name);
            if (mapped != null && !Files.exists(mapped.file()) && Libc.processExists(pid)) {
                // Alive after its file went (asked in that order: a peer killed and unlinked between the two
                // questions is dead by now and keeps its mapping): it closed its endpoint, let its memory go.
                peerRegions.remove(name).close();
            }
        }
        if (deadSince.isEmpty() || !recentDeath(now)) {
            return;
        }
        releaseIfAbandoned(own, "this endpoint's own region");
        for (Iterator<Map.Entry<String, SmrRegion>> it = peerRegions.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, SmrRegion> e = it.next();
            SmrRegion r = e.getValue();
            Long since = deadSince.get(r.ownerPid());
            if (since == null) {
                continue;
            }
            releaseIfAbandoned(r, "the dead peer's region");
            if (now - since > AFTER_DEATH_NANOS) {
                r.close(); // nothing there will change any more
                it.remove();
            }
        }
    }

    private boolean recentDeath(long now) {
        for (long since : deadSince.values()) {
            if (now - since <= AFTER_DEATH_NANOS) {
                return true;
            }
        }
        return false;
    }

    private void releaseIfAbandoned(SmrRegion region, String what) {
        if (!region.lockHeld()) {
            return;
        }
        long start = System.nanoTime();
        while (System.nanoTime() - start < holdNanos) {
            if (stopped || !region.lockHeld()) {
                return;
            }
            LockSupport.parkNanos(SAMPLE_NANOS);
        }
        region.releaseLock();
        generation.incrementAndGet();
        LOG.log(Level.WARNING, "released the spin lock of " + region + " (" + what + "): it stayed taken for "
                + TimeUnit.NANOSECONDS.toMillis(holdNanos) + " ms after peer process(es) " + deadSince.keySet()
                + " died; a process killed inside libfabric left it taken, which would wedge this endpoint's worker");
    }

    /** Stops the thread (waits for it at most {@code holdNanos} and a period) and unmaps the regions. */
    @Override
    public void close() {
        stopped = true;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.NANOSECONDS.toMillis(holdNanos + 2 * PERIOD_NANOS) + 1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            return; // leave the mappings to the GC-less end of the process rather than unmap under the thread
        }
        own.close();
        peerRegions.values().forEach(SmrRegion::close);
        peerRegions.clear();
    }
}
