package dev.transferengine.core;

import dev.transferengine.api.RemoteRegion.DeviceShare;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.DeviceMemory;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.UUID;

/**
 * The owner's side of the same-host GPU path: for a GPU region registered for remote writes it exports the
 * allocation's IPC handle and gives the region a word in this engine's liveness file (shared memory, one
 * 8-byte word per shared region), set to a random generation while the region is open and cleared when it
 * closes. A writer on the same host reads the word before each copy ({@link IpcWrites}): an IPC mapping checks
 * no key, so this is what refuses a stale descriptor instead of writing into memory the owner reused.
 *
 * <p>Thread-safe. The file lives under {@code /dev/shm} (else the temp directory) and is deleted on close; a
 * process killed with SIGKILL leaves it behind (32 KiB, named with its pid).
 */
final class DeviceShares implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DeviceShares.class.getName());
    static final int SLOTS = 4096;
    static final long FILE_BYTES = SLOTS * 8L;
    private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] HOST_ID = hostId();

    private final Arena arena = Arena.ofShared();
    private final BitSet used = new BitSet(SLOTS);
    private Path path;
    private MemorySegment words;
    private boolean closed;
    private boolean failed;

    /** This host's identity: the Linux boot id, else a random id (then no other process matches it). */
    static byte[] hostId() {
        if (HOST_ID != null) {
            return HOST_ID.clone();
        }
        try {
            UUID id = UUID.fromString(Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim());
            return ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits())
                    .array();
        } catch (IOException | IllegalArgumentException e) {
            byte[] random = new byte[16];
            RANDOM.nextBytes(random);
            return random;
        }
    }

    /**
     * A share for {@code memory}, or null when none can be made (the backend cannot export, the file cannot be
     * created, all slots are used): peers then write through the NIC as before.
     */
    synchronized DeviceShare share(DeviceMemory memory) {
        if (closed || failed) {
            return null;
        }
        byte[] handle;
        try {
            handle = memory.backend().exportIpc(memory.allocation().base());
        } catch (TransferException e) {
            LOG.log(Level.DEBUG, "no IPC handle for " + memory + ": " + e.getMessage());
            return null;
        }
        if (words == null && !createFile()) {
            return null;
        }
        int slot = used.nextClearBit(0);
        if (slot >= SLOTS) {
            return null;
        }
        used.set(slot);
        long generation = RANDOM.nextLong() | 1;
        WORD.setRelease(words, slot * 8L, generation);
        return new DeviceShare(HOST_ID.clone(), memory.ordinal(), handle,
                memory.address() - memory.allocation().base(), path.toString(), slot, generation);
    }

    /** Clears the share's word: writers holding the descriptor are refused from now on. */
    synchronized void release(DeviceShare share) {
        if (share == null || words == null || !share.livenessPath().equals(path.toString())) {
            return;
        }
        WORD.setRelease(words, share.livenessSlot() * 8L, 0L);
        used.clear(share.livenessSlot());
    }

    private boolean createFile() {
        Path dir = Path.of("/dev/shm");
        if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
            dir = Path.of(System.getProperty("java.io.tmpdir"));
        }
        Path file = dir.resolve("te-live-" + ProcessHandle.current().pid() + "-"
                + HexFormat.of().toHexDigits(RANDOM.nextInt()));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            words = ch.map(FileChannel.MapMode.READ_WRITE, 0, FILE_BYTES, arena);
            path = file;
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            failed = true;
            LOG.log(Level.WARNING, "no liveness file for same-host GPU writes (" + file + "): " + e
                    + "; peers on this host write through the NIC");
            return false;
        }
    }

    /** Clears every word, unmaps and deletes the file. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (words != null) {
            words.fill((byte) 0);
        }
        arena.close();
        if (path != null) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "could not delete " + path + ": " + e);
            }
        }
    }
}
