package dev.transferengine.core.jfr;

import dev.transferengine.api.Access;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A real engine run recorded with JFR and read back: transfers, an error, registrations, a peer connection. */
class EngineJfrEventsTest {
    @TempDir
    Path dir;

    @Test
    void aRecordedRunHoldsOneEventPerTransferRegistrationAndError() throws Exception {
        Path file = dir.resolve("engine.jfr");
        int good = 20;
        try (Recording recording = new Recording()) {
            recording.enable(TransferEvent.NAME).withThreshold(Duration.ZERO);
            recording.enable(TransferErrorEvent.NAME);
            recording.enable(RegistrationEvent.NAME).withThreshold(Duration.ZERO);
            recording.enable(PeerConnectionEvent.NAME).withThreshold(Duration.ZERO);
            recording.start();
            try (TransferEngine a = TransferEngine.builder().name("jfr-a").groups(1, 2).build();
                 TransferEngine b = TransferEngine.builder().name("jfr-b").build();
                 Arena arena = Arena.ofShared()) {
                MemoryRegion src = a.register(arena.allocate(64 * 1024), Access.LOCAL);
                MemoryRegion target = b.register(arena.allocate(64 * 1024), Access.REMOTE_WRITE);
                RemoteRegion dst = target.descriptor();
                TransferCounter done = a.newTransferCounter();
                for (int i = 0; i < good; i++) {
                    a.submit(SingleWrite.of(src, 0, 1000 + i, dst, 0), done);
                }
                done.await(good, Duration.ofSeconds(30));
                assertEquals(0, done.failed());
                target.close();
                TransferCounter refused = a.newTransferCounter();
                a.submit(SingleWrite.of(src, 0, 500, dst, 0), refused);
                refused.await(1, Duration.ofSeconds(30));
                assertEquals(1, refused.failed());
            }
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        List<RecordedEvent> transfers = named(events, TransferEvent.NAME);
        assertEquals(good + 1, transfers.size(), "one Transfer event per transfer");
        long okBytes = transfers.stream().filter(e -> e.getString("outcome").equals("OK"))
                .mapToLong(e -> e.getLong("bytes")).sum();
        long expected = 0;
        for (int i = 0; i < good; i++) {
            expected += 1000 + i;
        }
        assertEquals(expected, okBytes);
        assertTrue(transfers.stream().allMatch(e -> e.getString("kind").equals("single") && e.getInt("nics") == 2
                && e.getInt("writes") == 2 && e.getString("provider").equals("loopback")));
        RecordedEvent refusedTransfer = transfers.stream().filter(e -> !e.getString("outcome").equals("OK"))
                .findFirst().orElseThrow();
        assertEquals(ErrorCategory.REMOTE_ACCESS.name(), refusedTransfer.getString("outcome"));
        assertEquals(500, refusedTransfer.getLong("bytes"));

        List<RecordedEvent> errors = named(events, TransferErrorEvent.NAME);
        assertEquals(1, errors.size());
        assertEquals(ErrorCategory.REMOTE_ACCESS.name(), errors.get(0).getString("category"));

        List<RecordedEvent> registrations = named(events, RegistrationEvent.NAME);
        assertEquals(2, registrations.stream().filter(e -> e.getString("operation").equals("register")).count());
        assertTrue(registrations.stream().anyMatch(e -> e.getString("operation").equals("deregister")
                && e.getLong("bytes") == 64 * 1024), "the target's close is a deregister event");
        assertTrue(registrations.stream().allMatch(e -> e.getString("outcome").equals("OK")
                && e.getString("memory").equals("host")));

        List<RecordedEvent> peers = named(events, PeerConnectionEvent.NAME);
        assertEquals(2, peers.size(), "one peer insertion per NIC of the writer");
    }

    private static List<RecordedEvent> named(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).toList();
    }
}
