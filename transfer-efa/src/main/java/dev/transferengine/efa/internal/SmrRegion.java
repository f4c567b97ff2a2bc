package dev.transferengine.efa.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.LongPredicate;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One libfabric 1.17 shm region ({@code struct smr_region}, the file {@code /dev/shm/PID:UID:IDX} behind an shm
 * endpoint), mapped into this process a second time so the engine can repair what a dead peer left broken in it
 * (issue 9, docs/reliability.md "Recovering from a peer that died inside libfabric"):
 * <ul>
 *   <li>its <b>spin lock</b>, which a process killed while holding it leaves taken for good: {@link #lockHeld},
 *       {@link #releaseLock};</li>
 *   <li>its <b>response queue</b>, where a write over 4 KiB waits for the target's answer in one FIFO per endpoint:
 *       {@link #failPendingResponses} answers the entries whose target died, so the writes behind them complete;</li>
 *   <li>its <b>peer table</b>, the names of every endpoint this one has exchanged addresses with:
 *       {@link #peerNames}.</li>
 * </ul>
 *
 * <p>None of this is libfabric API. The offsets are those of libfabric 1.17.0 (region version 4; x86-64), read from
 * its source and checked against the Debian/Ubuntu build by dumping a live region; {@link #open} refuses a file whose
 * header does not match them (version byte, owner pid, total size), and the callers use it only with a libfabric
 * 1.17 library. The lock's encoding is glibc's, learned at run time from {@code pthread_spin_init} and
 * {@code pthread_spin_lock} ({@link SpinLockEncoding}).
 *
 * <p>Thread-safety: the lock and signal words are read and written atomically from any thread; the response queue is
 * scanned only by the domain's worker (the one thread that drives this endpoint's progress), so the entries it
 * changes cannot be consumed under it.
 */
final class SmrRegion implements AutoCloseable {
    /** {@code smr_region.version} of libfabric 1.17. */
    static final int VERSION_1_17 = 4;

    // struct smr_region (libfabric 1.17, prov/shm/src/smr_util.h)
    private static final long VERSION = 0x00;      // uint8_t
    private static final long PID = 0x04;          // int
    private static final long LOCK = 0x18;         // pthread_spinlock_t
    private static final long SIGNAL = 0x1c;       // ofi_atomic32_t: "progress me"; set after every change here
    private static final long TOTAL_SIZE = 0x28;   // size_t
    private static final long RESP_QUEUE_OFFSET = 0x48;
    private static final long PEER_DATA_OFFSET = 0x60;
    // OFI_DECLARE_CIRQUE: size, size_mask, rcnt, wcnt (size_t each), then the entries
    private static final long CIRQUE_MASK = 8;
    private static final long CIRQUE_RCNT = 16;
    private static final long CIRQUE_WCNT = 24;
    private static final long CIRQUE_ENTRIES = 32;
    // struct smr_resp { uint64_t msg_id; uint64_t status; }
    private static final long RESP_BYTES = 16;
    private static final long RESP_STATUS = 8;
    /** A response the target has not written yet. */
    static final long STATUS_BUSY = 16; // FI_EBUSY
    /** {@code smr_tx_entry.context}: after the 256-byte {@code struct smr_cmd} and {@code int64_t peer_id}. */
    private static final long TX_ENTRY_CONTEXT = 264;
    // struct smr_peer_data { struct smr_addr { char name[256]; int64_t id; }; uint32_t sar_status, name_sent; }
    private static final long PEER_DATA_BYTES = 272;
    private static final int NAME_MAX = 256;
    private static final int MAX_PEERS = 256;

    private final Path file;
    private final int ownerPid;
    private final Arena arena;
    private final MemorySegment region;
    private final long respQueue;
    private final long peerData;

    private SmrRegion(Path file, int ownerPid, Arena arena, MemorySegment region) {
        this.file = file;
        this.ownerPid = ownerPid;
        this.arena = arena;
        this.region = region;
        this.respQueue = region.get(JAVA_LONG, RESP_QUEUE_OFFSET);
        this.peerData = region.get(JAVA_LONG, PEER_DATA_OFFSET);
    }

    /**
     * Maps the region file of {@code ownerPid}'s endpoint; null (with nothing mapped) when the file is gone, cannot
     * be mapped, or its header is not a libfabric 1.17 region of that process.
     */
    static SmrRegion open(Path file, int ownerPid) {
        if (file == null || !SpinLockEncoding.KNOWN) {
            return null;
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            if (size < 4096) {
                arena.close();
                return null;
            }
            MemorySegment m = ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
            if (!matches(m, ownerPid, size)) {
                arena.close();
                return null;
            }
            return new SmrRegion(file, ownerPid, arena, m);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            arena.close();
            return null;
        }
    }

    private static boolean matches(MemorySegment m, int pid, long size) {
        if ((m.get(JAVA_BYTE, VERSION) & 0xff) != VERSION_1_17 || m.get(JAVA_INT, PID) != pid
                || m.get(JAVA_LONG, TOTAL_SIZE) != size) {
            return false;
        }
        long resp = m.get(JAVA_LONG, RESP_QUEUE_OFFSET);
        long peers = m.get(JAVA_LONG, PEER_DATA_OFFSET);
        if (resp <= 0 || peers <= 0 || resp + CIRQUE_ENTRIES > size || peers + PEER_DATA_BYTES * MAX_PEERS > size) {
            return false;
        }
        long queueSize = m.get(JAVA_LONG, resp);
        long mask = m.get(JAVA_LONG, resp + CIRQUE_MASK);
        return queueSize > 0 && Long.bitCount(queueSize) == 1 && mask == queueSize - 1
                && resp + CIRQUE_ENTRIES + queueSize * RESP_BYTES <= size;
    }

    Path file() {
        return file;
    }

    int ownerPid() {
        return ownerPid;
    }

    /** Whether some process holds the region's spin lock right now. */
    boolean lockHeld() {
        return (int) JAVA_INT_HANDLE.getVolatile(region, LOCK) != SpinLockEncoding.UNLOCKED;
    }

    /**
     * Releases the spin lock whoever holds it, and raises the region's signal so its owner progresses what is
     * queued. Only for a lock whose holder is known dead: a live holder would find two threads in its critical
     * section.
     */
    void releaseLock() {
        JAVA_INT_HANDLE.setVolatile(region, LOCK, SpinLockEncoding.UNLOCKED);
        JAVA_INT_HANDLE.setVolatile(region, SIGNAL, 1);
    }

    /** Takes the spin lock if it is free and raises the signal (tests: a peer dying inside libfabric). */
    boolean tryTakeLock() {
        boolean taken = JAVA_INT_HANDLE.compareAndSet(region, LOCK, SpinLockEncoding.UNLOCKED, SpinLockEncoding.LOCKED);
        JAVA_INT_HANDLE.setVolatile(region, SIGNAL, 1);
        return taken;
    }

    /**
     * Answers, with {@code status} (a negative errno, as the target would write it), every unanswered response
     * whose write's context {@code deadContext} accepts, and raises the signal when it answered any. Only this
     * region's owner may call it, on the thread that progresses the endpoint: an entry's {@code msg_id} is a pointer
     * to the owner's {@code smr_tx_entry}, read here for the context the write was posted with.
     *
     * @return how many responses were answered
     */
    int failPendingResponses(LongPredicate deadContext, long status) {
        if (ownerPid != PeerProcesses.OWN_PID) {
            throw new IllegalStateException("only the owner's responses can be read: region of pid " + ownerPid);
        }
        long mask = region.get(JAVA_LONG, respQueue + CIRQUE_MASK);
        long read = (long) JAVA_LONG_HANDLE.getVolatile(region, respQueue + CIRQUE_RCNT);
        long write = (long) JAVA_LONG_HANDLE.getVolatile(region, respQueue + CIRQUE_WCNT);
        int answered = 0;
        for (long i = read; i != write; i++) {
            long at = respQueue + CIRQUE_ENTRIES + (i & mask) * RESP_BYTES;
            if ((long) JAVA_LONG_HANDLE.getVolatile(region, at + RESP_STATUS) != STATUS_BUSY) {
                continue;
            }
            long txEntry = region.get(JAVA_LONG, at);
            if (txEntry == 0) {
                continue;
            }
            long context = MemorySegment.ofAddress(txEntry).reinterpret(TX_ENTRY_CONTEXT + 8)
                    .get(JAVA_LONG, TX_ENTRY_CONTEXT);
            if (deadContext.test(context)) {
                JAVA_LONG_HANDLE.setVolatile(region, at + RESP_STATUS, status);
                answered++;
            }
        }
        if (answered > 0) {
            JAVA_INT_HANDLE.setVolatile(region, SIGNAL, 1);
        }
        return answered;
    }

    /** The names ({@code PID:UID:IDX}, without the scheme) of the endpoints in this region's peer table. */
    java.util.List<String> peerNames() {
        java.util.List<String> names = new java.util.ArrayList<>();
        byte[] name = new byte[NAME_MAX];
        for (int i = 0; i < MAX_PEERS; i++) {
            long at = peerData + i * PEER_DATA_BYTES;
            if (region.get(JAVA_BYTE, at) == 0) {
                continue;
            }
            MemorySegment.copy(region, JAVA_BYTE, at, name, 0, NAME_MAX);
            int len = 0;
            while (len < NAME_MAX && name[len] != 0) {
                len++;
            }
            String s = new String(name, 0, len, StandardCharsets.US_ASCII);
            int scheme = s.indexOf("://");
            names.add(scheme < 0 ? s : s.substring(scheme + 3));
        }
        return names;
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "shm region " + file + " (pid " + ownerPid + ")";
    }

    private static final VarHandle JAVA_INT_HANDLE = JAVA_INT.varHandle();
    private static final VarHandle JAVA_LONG_HANDLE = JAVA_LONG.varHandle();
}
