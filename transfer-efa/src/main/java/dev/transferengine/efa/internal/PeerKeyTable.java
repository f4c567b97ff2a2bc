package dev.transferengine.efa.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A writer's read-only view of a same-host peer's {@link KeyTable}: checks a write's key and range before it is
 * posted. Opened once per peer; the mapping lives in the caller's arena (it stays valid after the owner unlinks
 * the file). Reads only; safe from the domain's owner thread while the owner process updates the table.
 */
final class PeerKeyTable {
    /** The write may be posted. */
    static final int PERMITTED = 0;
    /** No live registration of the peer has this key: stale (deregistered) or forged. */
    static final int UNKNOWN_KEY = 1;
    /** The key is live but the range runs outside its registration. */
    static final int OUT_OF_RANGE = 2;
    /** The peer's endpoint has closed: none of its registrations may be written. */
    static final int CLOSED = 3;

    private static final System.Logger LOG = System.getLogger(PeerKeyTable.class.getName());

    private final Path file;
    private final MemorySegment words;

    private PeerKeyTable(Path file, MemorySegment words) {
        this.file = file;
        this.words = words;
    }

    /**
     * Maps the table of the shm peer with {@code address} into {@code arena}, or returns null when it has none (a
     * peer that does not publish keys, a non-shm address): then nothing is checked before posting to it.
     */
    static PeerKeyTable open(byte[] address, Arena arena) {
        Path file = KeyTable.fileOf(address);
        if (file == null) {
            return null;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() < KeyTable.FILE_BYTES) {
                LOG.log(System.Logger.Level.DEBUG, "key table " + file + " is " + ch.size() + " bytes, expected "
                        + KeyTable.FILE_BYTES);
                return null;
            }
            MemorySegment words = ch.map(FileChannel.MapMode.READ_ONLY, 0, KeyTable.FILE_BYTES, arena);
            if ((long) KeyTable.WORD.getAcquire(words, KeyTable.OFF_MAGIC) != KeyTable.MAGIC
                    || (long) KeyTable.WORD.get(words, KeyTable.OFF_CAPACITY) != KeyTable.CAPACITY) {
                LOG.log(System.Logger.Level.DEBUG, "key table " + file + " has another format: not checked");
                return null;
            }
            return new PeerKeyTable(file, words);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot map key table " + file + ": writes to that peer are not"
                    + " checked", e);
            return null;
        }
    }

    /**
     * Whether a write of {@code length} (> 0) bytes at {@code address} with {@code key} may be posted:
     * {@link #PERMITTED}, {@link #UNKNOWN_KEY}, {@link #OUT_OF_RANGE} or {@link #CLOSED}. No allocation.
     */
    int check(long key, long address, long length) {
        if ((long) KeyTable.WORD.getAcquire(words, KeyTable.OFF_STATE) != KeyTable.STATE_OPEN) {
            return CLOSED;
        }
        int slot = (int) (key & KeyTable.SLOT_MASK);
        if (slot == KeyTable.UNPUBLISHED_SLOT || key == 0) {
            return UNKNOWN_KEY;
        }
        long at = KeyTable.HEADER_BYTES + slot * KeyTable.ENTRY_BYTES;
        if ((long) KeyTable.WORD.getAcquire(words, at + KeyTable.E_KEY) != key) {
            return UNKNOWN_KEY;
        }
        long start = (long) KeyTable.WORD.getAcquire(words, at + KeyTable.E_START);
        long end = (long) KeyTable.WORD.getAcquire(words, at + KeyTable.E_END);
        if ((long) KeyTable.WORD.getAcquire(words, at + KeyTable.E_KEY) != key) {
            return UNKNOWN_KEY; // withdrawn while we read the range
        }
        // unsigned: start <= address and length <= end - address, without overflow
        if (Long.compareUnsigned(address, start) < 0 || Long.compareUnsigned(address, end) > 0
                || Long.compareUnsigned(length, end - address) > 0) {
            return OUT_OF_RANGE;
        }
        return PERMITTED;
    }

    /** Words for an error message. */
    static String explain(int verdict) {
        return switch (verdict) {
            case UNKNOWN_KEY -> "no live registration of the peer has this key (deregistered, or never issued)";
            case OUT_OF_RANGE -> "the range runs outside the registration of this key";
            case CLOSED -> "the peer's endpoint has closed";
            default -> "permitted";
        };
    }

    Path file() {
        return file;
    }
}
