package dev.transferengine.efa.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The remote-writable registrations of one shm endpoint, published in a file under {@code /dev/shm} so that
 * writers on the same host check a descriptor's key and range <b>before</b> they post (issue 9, shm refusals).
 *
 * <p>Why: libfabric 1.17's shm verifies a write's key only at the target, and when it refuses one it tells
 * nobody: no CQ entry at the target, no answer to the writer. A refused write of up to 4 KiB "succeeds" at the
 * writer and a larger one never completes (docs/reliability.md). The target's verification keeps the bytes safe,
 * but the writer learns nothing. With this table the writer ({@link PeerKeyTable}) refuses a stale, forged or
 * out-of-range descriptor itself with a typed REMOTE_ACCESS error, and the target's check remains the backstop.
 *
 * <p>Keys encode their slot: {@code key = serial << SLOT_BITS | slot}, the serial increasing per table, so keys are
 * never reused and a reader finds a key's entry with one mask. Registrations that peers may not write get keys in
 * the never-published slot {@link #UNPUBLISHED_SLOT}, so a writer using one is refused as well.
 *
 * <p>Layout (native byte order, 8-byte words): header {magic, state (1 open, 2 closed), capacity, owner pid,
 * 4 spare}, then {@code capacity} entries of {key, start, end, spare}. {@code [start, end)} is the range in the
 * peer's remote addressing (virtual addresses on shm). Publication: start and end first, then the key with release
 * semantics; withdrawal: the key to 0 with release semantics, before the MR is closed. A reader reads the key, the
 * range and the key again (acquire), so a range is trusted only while its key stayed in place. On close the state
 * turns to closed before anything is deregistered, and the file is unlinked (mapped readers keep their mapping).
 *
 * <p>What it cannot catch: a write checked just before the target withdraws its key and posted just after; the
 * target's own verification drops that one (silently, as before). Single-threaded (the domain's owner thread);
 * files left by processes that died are removed when a process creates its first table.
 */
final class KeyTable implements AutoCloseable {
    static final long MAGIC = 0x5445_4b45_5953_3031L; // "TEKEYS01"
    static final int SLOT_BITS = 16;
    static final int CAPACITY = 1 << SLOT_BITS;
    static final long SLOT_MASK = CAPACITY - 1;
    /** The slot no registration is ever published in: keys of local-only registrations point at it. */
    static final int UNPUBLISHED_SLOT = CAPACITY - 1;
    static final long HEADER_BYTES = 64;
    static final long ENTRY_BYTES = 32;
    static final long FILE_BYTES = HEADER_BYTES + CAPACITY * ENTRY_BYTES;
    static final long OFF_MAGIC = 0;
    static final long OFF_STATE = 8;
    static final long OFF_CAPACITY = 16;
    static final long OFF_PID = 24;
    static final long E_KEY = 0;
    static final long E_START = 8;
    static final long E_END = 16;
    static final long STATE_OPEN = 1;
    static final long STATE_CLOSED = 2;
    static final String PREFIX = "te-keys.";

    static final VarHandle WORD = JAVA_LONG.withOrder(ByteOrder.nativeOrder()).varHandle();

    private static final System.Logger LOG = System.getLogger(KeyTable.class.getName());
    private static final Path SHM = Path.of("/dev/shm");
    private static final AtomicBoolean SWEPT = new AtomicBoolean();

    private final Path file;
    private final Arena arena;
    private final MemorySegment words;
    /** Free slots (a stack); the slot of {@link #UNPUBLISHED_SLOT} is never handed out. */
    private final int[] free = new int[CAPACITY - 1];
    private int freeCount;
    private long serial = 1;
    private boolean closed;

    private KeyTable(Path file, Arena arena, MemorySegment words) {
        this.file = file;
        this.arena = arena;
        this.words = words;
        for (int s = CAPACITY - 2; s >= 0; s--) {
            free[freeCount++] = s;
        }
    }

    /** The table file of the shm endpoint with this address, or null when the address is not an shm one. */
    static Path fileOf(byte[] address) {
        Path endpointFile = RetiredEndpoints.shmFileOf(address);
        return endpointFile == null ? null : SHM.resolve(PREFIX + endpointFile.getFileName());
    }

    /**
     * Creates the table of the endpoint with {@code address}, or returns null (logged) when it cannot: then writers
     * check nothing for this endpoint and the target's verification is all there is, as without a table.
     */
    static KeyTable create(byte[] address) {
        Path file = fileOf(address);
        if (file == null) {
            return null;
        }
        if (SWEPT.compareAndSet(false, true)) {
            removeStaleTables(); // once per process: tables of processes that die later are its successors' to sweep
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            MemorySegment words = ch.map(FileChannel.MapMode.READ_WRITE, 0, FILE_BYTES, arena);
            WORD.set(words, OFF_CAPACITY, (long) CAPACITY);
            WORD.set(words, OFF_PID, ProcessHandle.current().pid());
            WORD.set(words, OFF_STATE, STATE_OPEN);
            WORD.setRelease(words, OFF_MAGIC, MAGIC);
            RetiredEndpoints.unlinkAtExit(file);
            return new KeyTable(file, arena, words);
        } catch (IOException | RuntimeException e) {
            arena.close();
            LOG.log(System.Logger.Level.WARNING, "no key table for shm endpoint " + file + " (writers will not check"
                    + " keys before posting; refused writes stay unreported): " + e);
            return null;
        }
    }

    /**
     * The key for a new registration: published later with {@link #publish} when peers may write it (it then owns
     * a slot until {@link #withdraw}), otherwise pointing at the never-published slot.
     *
     * @throws TransferException UNAVAILABLE when every slot is taken by a live remote-writable registration
     */
    long newKey(boolean remoteWrite) {
        long s = serial++;
        if (!remoteWrite) {
            return s << SLOT_BITS | UNPUBLISHED_SLOT;
        }
        if (freeCount == 0) {
            throw new TransferException(ErrorCategory.UNAVAILABLE, "more than " + (CAPACITY - 1) + " remote-writable"
                    + " registrations on one shm endpoint: deregister some, or register larger regions");
        }
        return s << SLOT_BITS | free[--freeCount];
    }

    /** A key from {@link #newKey} whose registration failed: its slot is free again. */
    void unused(long key) {
        int slot = (int) (key & SLOT_MASK);
        if (slot != UNPUBLISHED_SLOT) {
            free[freeCount++] = slot;
        }
    }

    /** Writers may now use {@code key} for {@code [start, end)}. */
    void publish(long key, long start, long end) {
        long at = entry(key);
        if (at < 0) {
            return;
        }
        WORD.set(words, at + E_START, start);
        WORD.set(words, at + E_END, end);
        WORD.setRelease(words, at + E_KEY, key);
    }

    /** Writers stop accepting {@code key}; call before the MR is closed. The slot is reused under a new key. */
    void withdraw(long key) {
        long at = entry(key);
        if (at < 0 || (long) WORD.getAcquire(words, at + E_KEY) != key) {
            return;
        }
        WORD.setRelease(words, at + E_KEY, 0L);
        VarHandle.fullFence();
        free[freeCount++] = (int) (key & SLOT_MASK);
    }

    private long entry(long key) {
        int slot = (int) (key & SLOT_MASK);
        return closed || slot == UNPUBLISHED_SLOT ? -1 : HEADER_BYTES + slot * ENTRY_BYTES;
    }

    Path file() {
        return file;
    }

    /**
     * Every writer refuses this endpoint from now on (state closed), and the file is unlinked. Call before the
     * endpoint's registrations are closed. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        WORD.setRelease(words, OFF_STATE, STATE_CLOSED);
        VarHandle.fullFence();
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not remove " + file, e);
        }
        RetiredEndpoints.forget(file);
        arena.close();
    }

    /** Removes table files whose owner process is gone (killed engines cannot remove their own). */
    static void removeStaleTables() {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(SHM, PREFIX + "*")) {
            for (Path f : files) {
                int pid = ownerPid(f.getFileName().toString());
                if (pid > 0 && !Libc.processExists(pid)) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not sweep stale key tables in " + SHM, e);
        }
    }

    /** The pid in a table file name ({@code te-keys.PID:UID:IDX}), or 0. */
    static int ownerPid(String name) {
        return name.startsWith(PREFIX) ? PeerProcesses.leadingPid(name, PREFIX.length()) : 0;
    }
}
