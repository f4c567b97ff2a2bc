package dev.transferengine.core.counters;

import dev.transferengine.api.Counter;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MalformedEncodingException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CountersBlockTest {
    @TempDir
    Path dir;

    @Test
    void countersAreKeptPerNicAndPerGroupWithoutCrosstalk() {
        CountersBlock block = CountersBlock.inMemory(new CountersLayout(new int[] {2, 3}), "t", "loopback");
        GroupCounters g0 = block.group(0);
        GroupCounters g1 = block.group(1);
        g0.add(0, Counter.BYTES_POSTED, 100);
        g0.add(1, Counter.BYTES_POSTED, 20);
        g0.increment(1, Counter.WRITES_POSTED);
        g1.add(2, Counter.BYTES_POSTED, 7);
        g1.increment(Counter.TRANSFERS_SUBMITTED);
        g1.add(Counter.TRANSFERS_IN_FLIGHT, 3);
        g1.add(Counter.TRANSFERS_IN_FLIGHT, -1);
        g0.failed(ErrorCategory.REMOTE_ACCESS);
        g0.failed(ErrorCategory.TIMEOUT);

        assertEquals(100, block.get(0, 0, Counter.BYTES_POSTED));
        assertEquals(20, block.get(0, 1, Counter.BYTES_POSTED));
        assertEquals(120, block.get(0, Counter.BYTES_POSTED), "a per-NIC counter read per group sums the NICs");
        assertEquals(7, block.get(1, Counter.BYTES_POSTED));
        assertEquals(127, block.total(Counter.BYTES_POSTED));
        assertEquals(1, block.get(0, 1, Counter.WRITES_POSTED));
        assertEquals(0, block.get(0, 0, Counter.WRITES_POSTED));
        assertEquals(0, block.get(0, Counter.TRANSFERS_SUBMITTED));
        assertEquals(1, block.get(1, Counter.TRANSFERS_SUBMITTED));
        assertEquals(2, block.get(1, Counter.TRANSFERS_IN_FLIGHT));
        assertEquals(1, block.errors(0, ErrorCategory.REMOTE_ACCESS));
        assertEquals(1, block.get(0, Counter.TRANSFERS_FAILED));
        assertEquals(1, block.get(0, Counter.TRANSFER_TIMEOUTS));
        assertEquals(1, block.totalErrors(ErrorCategory.TIMEOUT));
        assertEquals(0, block.errors(1, ErrorCategory.REMOTE_ACCESS));
        for (Counter c : Counter.values()) {
            if (c.perNic()) {
                assertEquals(0, block.get(1, 0, c), c + " of an untouched NIC");
            }
        }
    }

    @Test
    void badArgumentsAreTypedErrors() {
        CountersBlock block = CountersBlock.inMemory(new CountersLayout(new int[] {2}), "t", "loopback");
        assertThrows(InvalidRequestException.class, () -> block.get(1, Counter.BYTES_POSTED));
        assertThrows(InvalidRequestException.class, () -> block.get(-1, Counter.BYTES_POSTED));
        assertThrows(InvalidRequestException.class, () -> block.get(0, 2, Counter.BYTES_POSTED));
        assertThrows(InvalidRequestException.class, () -> block.get(0, 0, Counter.TRANSFERS_SUBMITTED));
        assertThrows(InvalidRequestException.class, () -> block.get(0, null));
        assertThrows(InvalidRequestException.class, () -> block.errors(0, null));
        assertThrows(InvalidRequestException.class, () -> block.nics(3));
    }

    @Test
    void anotherReaderSeesTheFileLiveAndTheOwnerDeletesIt() {
        Path file = dir.resolve("sub/te.counters");
        CountersFile written = CountersFile.create(file, new CountersLayout(new int[] {1, 4}), "engine-a", "tcp");
        try (CountersFile read = CountersFile.open(file)) {
            CountersBlock view = read.counters();
            assertEquals("engine-a", view.engineName());
            assertEquals("tcp", view.providerName());
            assertEquals(ProcessHandle.current().pid(), view.pid());
            assertEquals(2, view.groups());
            assertEquals(4, view.nics(1));
            assertEquals(0, view.get(1, 3, Counter.IMMS_RECEIVED));
            written.counters().group(1).add(3, Counter.IMMS_RECEIVED, 42);
            written.counters().group(0).failed(ErrorCategory.PEER_UNREACHABLE);
            assertEquals(42, view.get(1, 3, Counter.IMMS_RECEIVED), "the reader maps the same pages");
            assertEquals(1, view.errors(0, ErrorCategory.PEER_UNREACHABLE));
        }
        assertTrue(Files.exists(file), "a reader does not delete the file");
        written.close();
        assertFalse(Files.exists(file), "the owner deletes its file on close");
    }

    @Test
    void aFileThatIsNotACountersFileIsRefused() throws IOException {
        Path junk = Files.write(dir.resolve("junk"), new byte[512]);
        assertThrows(MalformedEncodingException.class, () -> CountersFile.open(junk));
        Path shortFile = Files.write(dir.resolve("short"), new byte[3]);
        assertThrows(MalformedEncodingException.class, () -> CountersFile.open(shortFile));
        assertThrows(InvalidRequestException.class, () -> CountersFile.open(dir.resolve("missing")));

        Path file = dir.resolve("truncated");
        CountersFile written = CountersFile.create(file, new CountersLayout(new int[] {8, 8}), "e", "p");
        byte[] head = Files.readAllBytes(file);
        written.close();
        Path truncated = Files.write(dir.resolve("truncated2"), java.util.Arrays.copyOf(head, 600));
        assertThrows(MalformedEncodingException.class, () -> CountersFile.open(truncated));
    }
}
