package dev.transferengine.core.jfr;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The worker re-arms one {@link TransferEvent} per pooled transfer slot instead of allocating one per
 * transfer: each begin/end/commit cycle must record its own fields and its own duration.
 */
class TransferEventReuseTest {
    @TempDir
    Path dir;

    @Test
    void oneInstanceRecordsEveryCycleWithItsOwnFieldsAndDuration() throws Exception {
        Path file = dir.resolve("reuse.jfr");
        TransferEvent event = new TransferEvent();
        try (Recording recording = new Recording()) {
            recording.enable(TransferEvent.NAME).withThreshold(Duration.ZERO);
            recording.start();
            for (int i = 0; i < 3; i++) {
                event.begin();
                LockSupport.parkNanos(2_000_000L * (i + 1));
                event.end();
                event.kind = "single";
                event.bytes = 1000L * (i + 1);
                event.writes = i + 1;
                event.outcome = i == 2 ? "REMOTE_ACCESS" : "OK";
                assertTrue(event.shouldCommit());
                event.commit();
            }
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals(TransferEvent.NAME)).toList();
        assertEquals(3, events.size());
        for (int i = 0; i < 3; i++) {
            RecordedEvent e = events.get(i);
            assertEquals(1000L * (i + 1), e.getLong("bytes"));
            assertEquals(i + 1, e.getInt("writes"));
            assertEquals(i == 2 ? "REMOTE_ACCESS" : "OK", e.getString("outcome"));
            assertTrue(e.getDuration().toNanos() >= 2_000_000L * (i + 1),
                    "cycle " + i + " lasted " + e.getDuration() + ": a re-armed event measures its own cycle");
        }
        assertTrue(events.get(1).getStartTime().isAfter(events.get(0).getStartTime()));
    }

    @Test
    void theDefaultThresholdSkipsFastTransfers() throws Exception {
        Path file = dir.resolve("threshold.jfr");
        TransferEvent event = new TransferEvent();
        try (Recording recording = new Recording()) {
            recording.enable(TransferEvent.NAME); // the class's own threshold: 1 ms
            recording.start();
            event.begin();
            event.end();
            boolean fast = event.shouldCommit();
            event.commit();
            event.begin();
            LockSupport.parkNanos(5_000_000L);
            event.end();
            event.bytes = 77;
            boolean slow = event.shouldCommit();
            event.commit();
            recording.stop();
            recording.dump(file);
            assertEquals(List.of(false, true), List.of(fast, slow));
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals(TransferEvent.NAME)).toList();
        assertEquals(1, events.size());
        assertEquals(77, events.get(0).getLong("bytes"));
    }
}
