package dev.transferengine.efa.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The shm key table: what a writer's check accepts and refuses, across a concurrent owner, and its files. */
class KeyTableTest {
    private static final long PID = ProcessHandle.current().pid();
    private static final AtomicLong NEXT = new AtomicLong();

    private final Arena readerArena = Arena.ofShared();
    private byte[] address;
    private KeyTable owner;

    @BeforeEach
    void create() {
        assumeTrue(Files.isDirectory(Path.of("/dev/shm")), "no /dev/shm");
        address = ("fi_shm://" + PID + ":0:keytabletest" + NEXT.incrementAndGet() + "\0")
                .getBytes(StandardCharsets.US_ASCII);
        owner = KeyTable.create(address);
        assertNotNull(owner, "table created");
    }

    @AfterEach
    void close() {
        if (owner != null) {
            owner.close();
        }
        readerArena.close();
    }

    @Test
    void aPublishedKeyPermitsExactlyItsRange() {
        long key = owner.newKey(true);
        owner.publish(key, 0x10000, 0x10000 + 4096);
        PeerKeyTable reader = PeerKeyTable.open(address, readerArena);
        assertNotNull(reader);
        assertEquals(PeerKeyTable.PERMITTED, reader.check(key, 0x10000, 4096));
        assertEquals(PeerKeyTable.PERMITTED, reader.check(key, 0x10000 + 4095, 1));
        assertEquals(PeerKeyTable.OUT_OF_RANGE, reader.check(key, 0x10000 - 1, 1));
        assertEquals(PeerKeyTable.OUT_OF_RANGE, reader.check(key, 0x10000 + 1, 4096));
        assertEquals(PeerKeyTable.OUT_OF_RANGE, reader.check(key, 0x10000 + 4096, 1));
        assertEquals(PeerKeyTable.OUT_OF_RANGE, reader.check(key, 0x10000 + 8, Long.MAX_VALUE), "no overflow");
        assertEquals(PeerKeyTable.OUT_OF_RANGE, reader.check(key, -8L, 16), "no unsigned wrap-around");
        assertEquals(PeerKeyTable.UNKNOWN_KEY, reader.check(key + 1, 0x10000, 1), "another key");
        assertEquals(PeerKeyTable.UNKNOWN_KEY, reader.check(key ^ 0x5A5A_0000_0000L, 0x10000, 1), "a forged key");
        assertEquals(PeerKeyTable.UNKNOWN_KEY, reader.check(0, 0x10000, 1));
    }

    @Test
    void aWithdrawnKeyIsRefusedAndItsSlotComesBackUnderANewKey() {
        PeerKeyTable reader = PeerKeyTable.open(address, readerArena);
        long first = owner.newKey(true);
        owner.publish(first, 0, 100);
        owner.withdraw(first);
        assertEquals(PeerKeyTable.UNKNOWN_KEY, reader.check(first, 0, 10));
        long second = owner.newKey(true);
        assertEquals(first & KeyTable.SLOT_MASK, second & KeyTable.SLOT_MASK, "the slot is reused");
        assertTrue(second != first, "under a new key");
        owner.publish(second, 0, 100);
        assertEquals(PeerKeyTable.UNKNOWN_KEY, reader.check(first, 0, 10), "the stale key stays refused");
        assertEquals(PeerKeyTable.PERMITTED, reader.check(second, 0, 10));
    }

    @Test
    void keysOfRegistrationsPeersMayNotWriteAreNeverPermitted() {
        PeerKeyTable reader = PeerKeyTable.open(address, readerArena);
        long local = owner.newKey(false);
        owner.publish(local, 0, 100); // ignored: its slot is the unpublished one
        assertEquals(KeyTable.UNPUBLISHED_SLOT, local & KeyTable.SLOT_MASK);
        assertEquals(PeerKeyTable.UNKNOWN_KEY, reader.check(local, 0, 10));
    }

    @Test
    void aClosedTableRefusesEverythingAndItsFileIsGone() {
        long key = owner.newKey(true);
        owner.publish(key, 0, 100);
        PeerKeyTable reader = PeerKeyTable.open(address, readerArena);
        Path file = owner.file();
        assertTrue(Files.exists(file));
        owner.close();
        owner.withdraw(key); // after close: harmless
        assertFalse(Files.exists(file), "unlinked at close");
        assertEquals(PeerKeyTable.CLOSED, reader.check(key, 0, 10), "the reader's mapping outlives the file");
        assertNull(PeerKeyTable.open(address, readerArena), "nothing to open once closed");
        owner = null;
    }

    @Test
    void aPeerWithoutATableIsNotChecked() {
        byte[] none = ("fi_shm://" + PID + ":0:notable\0").getBytes(StandardCharsets.US_ASCII);
        assertNull(PeerKeyTable.open(none, readerArena));
        assertNull(PeerKeyTable.open("fi_sockets://1.2.3.4\0".getBytes(StandardCharsets.US_ASCII), readerArena));
    }

    @Test
    void everySlotCanBeTakenThenRegistrationIsRefusedTyped() {
        long[] keys = new long[KeyTable.CAPACITY - 1];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = owner.newKey(true);
        }
        TransferException e = assertThrows(TransferException.class, () -> owner.newKey(true));
        assertEquals(ErrorCategory.UNAVAILABLE, e.category());
        owner.newKey(false); // local-only keys need no slot
        owner.unused(keys[7]);
        long again = owner.newKey(true);
        assertEquals(keys[7] & KeyTable.SLOT_MASK, again & KeyTable.SLOT_MASK);
    }

    /**
     * The owner re-registers one slot over and over, alternating two ranges; a reader checks the key it last saw
     * against the <i>other</i> range. A reader that trusted a key and then read the next registration's range
     * (the key is re-read after the range for this) would permit a write through a stale descriptor.
     */
    @Test
    void aReaderNeverPairsAStaleKeyWithTheNextRegistrationsRange() throws Exception {
        PeerKeyTable reader = PeerKeyTable.open(address, readerArena);
        AtomicLong current = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        long[] wrong = new long[1];
        long[] checks = new long[1];
        Thread r = new Thread(() -> {
            while (!stop.get()) {
                long k = current.get();
                if (k == 0) {
                    continue;
                }
                boolean low = (k >>> KeyTable.SLOT_BITS) % 2 == 0;
                long otherRange = low ? 1_000_000 : 0;
                if (reader.check(k, otherRange, 64) == PeerKeyTable.PERMITTED) {
                    wrong[0]++;
                }
                checks[0]++;
            }
        });
        r.start();
        for (int i = 0; i < 2_000_000; i++) {
            long k = owner.newKey(true);
            boolean low = (k >>> KeyTable.SLOT_BITS) % 2 == 0;
            long start = low ? 0 : 1_000_000;
            owner.publish(k, start, start + 4096);
            current.set(k);
            owner.withdraw(k);
        }
        stop.set(true);
        r.join();
        assertEquals(0, wrong[0], "stale key permitted for the next registration's range, of " + checks[0]);
        assertTrue(checks[0] > 0);
    }

    @Test
    void tablesOfDeadProcessesAreSweptAndLiveOnesKept() throws IOException {
        int dead = deadPid();
        Path stale = Path.of("/dev/shm", KeyTable.PREFIX + dead + ":0:0");
        Files.write(stale, new byte[8]);
        KeyTable.removeStaleTables();
        assertFalse(Files.exists(stale), "a dead process's table is removed");
        assertTrue(Files.exists(owner.file()), "ours is kept");
        assertEquals(dead, KeyTable.ownerPid(stale.getFileName().toString()));
        assertEquals(0, KeyTable.ownerPid("te-keys.x:0:0"));
        assertEquals(0, KeyTable.ownerPid("other"));
    }

    private static int deadPid() {
        for (int p = 4_000_000; p > 1000; p -= 7919) {
            if (!Libc.processExists(p)) {
                return p;
            }
        }
        throw new IllegalStateException("no free pid found");
    }
}
