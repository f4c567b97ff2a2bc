package dev.transferengine.core;

import dev.transferengine.api.Access;
import dev.transferengine.api.ClosedException;
import dev.transferengine.api.EngineHealth;
import dev.transferengine.api.EngineHealth.WorkerState;
import dev.transferengine.api.IdleStrategy;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferCallback;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stuck-worker watchdog (issue 9) with a provider whose native calls block on a latch: reported STUCK
 * (health, counter, one ERROR with the stack) within about the bound, RUNNING again once released; close() returns
 * within its bound while a worker is stuck, and every transfer is reported exactly once; idle workers, however
 * long they park, are never reported.
 */
class WatchdogTest {
    private static final Duration BOUND = Duration.ofMillis(200);

    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            records.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final Logger watchdogLog = Logger.getLogger(Watchdog.class.getName());
    private final Logger engineLog = Logger.getLogger(DefaultTransferEngine.class.getName());

    @BeforeEach
    void captureLogs() {
        watchdogLog.addHandler(capture);
        engineLog.addHandler(capture);
    }

    @AfterEach
    void release() {
        StuckNativeProvider.reset();
        watchdogLog.removeHandler(capture);
        engineLog.removeHandler(capture);
    }

    @Test
    void aWorkerStuckInPollIsReportedThenRunningAgain() throws Exception {
        try (Arena arena = Arena.ofShared();
             TransferEngine a = TransferEngine.builder().provider("stuck-native").name("wd-poll")
                     .watchdogBound(BOUND).build();
             TransferEngine b = TransferEngine.builder().name("wd-poll-peer").build()) {
            MemoryRegion src = a.register(arena.allocate(4096), Access.LOCAL);
            MemoryRegion dst = b.register(arena.allocate(4096), Access.REMOTE_WRITE);
            TransferRequest write = SingleWrite.of(src, 0, 4096, dst.descriptor(), 0);
            a.submit(write).get(10, TimeUnit.SECONDS);
            EngineHealth before = a.health();
            assertEquals(BOUND, before.watchdogBound());
            assertEquals(WorkerState.RUNNING, before.group(0).state());
            assertEquals(0, before.group(0).stuckCount());
            assertTrue(before.healthy());

            CountDownLatch gate = new CountDownLatch(1);
            StuckNativeProvider.pollGate = gate;
            StuckNativeProvider.awaitBlocked();
            long blockedAt = System.nanoTime();
            waitFor(() -> a.health().group(0).state() == WorkerState.STUCK, 5_000, "STUCK reported");
            long detectedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - blockedAt);
            EngineHealth stuck = a.health();
            assertTrue(detectedMs >= BOUND.toMillis() - 20, "not before the bound: " + detectedMs + " ms");
            assertTrue(detectedMs < 3_000, "within about the bound (+1/4, slow CI): " + detectedMs + " ms");
            assertEquals(1, stuck.group(0).stuckCount());
            assertFalse(stuck.healthy());
            assertTrue(stuck.group(0).nanosSinceLastCycle() >= BOUND.toNanos(), stuck.toString());
            // Reported once, however many checks see it stuck.
            Thread.sleep(3 * BOUND.toMillis());
            assertEquals(1, a.health().group(0).stuckCount());
            List<LogRecord> errors = records.stream().filter(r -> r.getLevel() == Level.SEVERE).toList();
            assertEquals(1, errors.size(), "one ERROR: " + errors.stream().map(LogRecord::getMessage).toList());
            LogRecord error = errors.get(0);
            assertTrue(error.getMessage().contains("STUCK") && error.getMessage().contains("wd-poll-worker-0"),
                    error.getMessage());
            assertNotNull(error.getThrown(), "the worker's stack is attached");
            assertTrue(Arrays.stream(error.getThrown().getStackTrace())
                            .anyMatch(f -> f.getClassName().contains("StuckNativeProvider") && f.getMethodName().equals("poll")),
                    "the stack shows the blocked call: " + Arrays.toString(error.getThrown().getStackTrace()));

            long cyclesStuck = a.health().group(0).cycles();
            gate.countDown();
            waitFor(() -> a.health().group(0).state() == WorkerState.RUNNING, 5_000, "RUNNING again");
            waitFor(() -> records.stream().anyMatch(r -> r.getLevel() == Level.WARNING
                    && r.getMessage().contains("again")), 5_000, "resumption logged");
            a.submit(write).get(10, TimeUnit.SECONDS);
            EngineHealth after = a.health();
            assertTrue(after.group(0).cycles() > cyclesStuck);
            assertEquals(1, after.group(0).stuckCount(), "the episode stays counted");
            assertTrue(after.healthy());
        }
    }

    @Test
    void closeWhileAWorkerIsStuckReturnsInTimeAndReportsEveryTransferOnce() throws Exception {
        int closedFabricsBefore = StuckNativeProvider.FABRICS_CLOSED.get();
        CountDownLatch gate = new CountDownLatch(1);
        try (Arena arena = Arena.ofShared();
             TransferEngine b = TransferEngine.builder().name("wd-close-peer").build()) {
            TransferEngine a = TransferEngine.builder().provider("stuck-native").name("wd-close")
                    .watchdogBound(BOUND).operationTimeout(Duration.ofSeconds(1))
                    .transferTimeout(Duration.ofSeconds(60)).build();
            MemoryRegion src = a.register(arena.allocate(4096), Access.LOCAL);
            MemoryRegion dst = b.register(arena.allocate(4096), Access.REMOTE_WRITE);
            TransferRequest write = SingleWrite.of(src, 0, 4096, dst.descriptor(), 0);
            a.submit(write).get(10, TimeUnit.SECONDS);

            StuckNativeProvider.postGate = gate;
            Outcome accepted = new Outcome();
            a.submit(write, accepted); // the worker takes it and blocks posting it
            StuckNativeProvider.awaitBlocked();
            Outcome queued1 = new Outcome();
            Outcome queued2 = new Outcome();
            a.submit(write, queued1);
            a.submit(write, queued2);
            TransferCounter counter = new TransferCounter();
            a.submit(write, counter);
            CompletableFuture<Void> future = a.submit(write);
            waitFor(() -> a.health().group(0).state() == WorkerState.STUCK, 5_000, "STUCK before close");

            long start = System.nanoTime();
            a.close();
            long closeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(closeMs < 5_000, "close returned within its bound: " + closeMs + " ms");
            a.close(); // idempotent, immediate

            // Never taken by the stuck worker: failed by close, once.
            for (Outcome o : List.of(queued1, queued2)) {
                waitFor(() -> o.calls.get() > 0, 5_000, "queued request failed");
                assertInstanceOf(ClosedException.class, o.error.get());
            }
            counter.await(1, Duration.ofSeconds(5));
            assertEquals(1, counter.failed());
            assertInstanceOf(ClosedException.class, counter.firstError());
            Throwable failed = assertThrows(Exception.class, () -> future.get(5, TimeUnit.SECONDS)).getCause();
            assertInstanceOf(ClosedException.class, failed);
            // Taken: it stays the stuck worker's, and so do its domains and the fabric.
            assertEquals(0, accepted.calls.get(), "the accepted transfer is not reported while its worker is stuck");
            assertEquals(WorkerState.STUCK, a.health().group(0).state(), "left behind: STUCK");
            assertEquals(closedFabricsBefore, StuckNativeProvider.FABRICS_CLOSED.get(), "fabric not closed under it");
            assertTrue(records.stream().anyMatch(r -> r.getLevel() == Level.SEVERE
                    && r.getMessage().contains("left behind")), "left-behind thread logged");
            assertThrows(ClosedException.class, () -> a.submit(write));

            gate.countDown();
            waitFor(() -> accepted.calls.get() > 0, 10_000, "accepted transfer reported after the call returned");
            waitFor(() -> a.health().group(0).state() == WorkerState.CLOSED, 10_000, "worker ended");
            waitFor(() -> StuckNativeProvider.FABRICS_CLOSED.get() == closedFabricsBefore + 1, 10_000,
                    "fabric closed after the worker ended");
            Thread.sleep(200);
            for (Outcome o : List.of(accepted, queued1, queued2)) {
                assertEquals(1, o.calls.get(), "reported exactly once");
            }
            assertEquals(1, counter.completed());
            TransferException e = accepted.error.get();
            assertTrue(e == null || e instanceof ClosedException, "completed, or failed CLOSED: " + e);
        }
    }

    @Test
    void idleWorkersAreNeverReportedWhateverTheirPark() throws Exception {
        try (TransferEngine parking = TransferEngine.builder().name("wd-idle-park").watchdogBound(BOUND)
                     .idleStrategy(() -> IdleStrategy.parking(TimeUnit.SECONDS.toNanos(1))).build();
             TransferEngine backoff = TransferEngine.builder().name("wd-idle-backoff").watchdogBound(BOUND).build()) {
            long end = System.nanoTime() + 8 * BOUND.toNanos();
            while (System.nanoTime() - end < 0) {
                for (TransferEngine e : List.of(parking, backoff)) {
                    EngineHealth h = e.health();
                    assertEquals(WorkerState.RUNNING, h.group(0).state(), h.toString());
                    assertEquals(0, h.group(0).stuckCount(), h.toString());
                }
                Thread.sleep(10);
            }
            // The parking worker wakes once a second, no more: it was really idle, not spinning.
            assertTrue(parking.health().group(0).cycles() < 10, parking.health().toString());
        }
        assertTrue(records.stream().noneMatch(r -> r.getLevel() == Level.SEVERE), "nothing logged as stuck");
    }

    @Test
    void theBoundIsValidatedAndZeroDisablesTheWatchdog() throws Exception {
        assertThrows(InvalidRequestException.class, () -> TransferEngine.builder().watchdogBound(Duration.ofMillis(-1)));
        assertThrows(InvalidRequestException.class, () -> TransferEngine.builder().watchdogBound(Duration.ofMillis(5)));
        assertThrows(InvalidRequestException.class, () -> TransferEngine.builder().watchdogBound(null));
        try (TransferEngine dflt = TransferEngine.builder().name("wd-default").build()) {
            assertEquals(Duration.ofSeconds(10), dflt.health().watchdogBound());
            assertTrue(threadNamed("wd-default-watchdog"));
        }
        assertFalse(threadNamed("wd-default-watchdog"), "stopped by close");

        try (Arena arena = Arena.ofShared();
             TransferEngine off = TransferEngine.builder().provider("stuck-native").name("wd-off")
                     .watchdogBound(Duration.ZERO).build()) {
            assertFalse(threadNamed("wd-off-watchdog"));
            off.register(arena.allocate(64), Access.LOCAL);
            StuckNativeProvider.pollGate = new CountDownLatch(1);
            StuckNativeProvider.awaitBlocked();
            Thread.sleep(2 * BOUND.toMillis());
            EngineHealth h = off.health();
            assertEquals(Duration.ZERO, h.watchdogBound());
            assertEquals(WorkerState.RUNNING, h.group(0).state(), "disabled: never STUCK while open");
            StuckNativeProvider.reset();
        }
    }

    private static boolean threadNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }

    private static void waitFor(BooleanSupplier condition, long timeoutMillis, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }

    /** A callback that counts how often it was called and keeps the last error. */
    private static final class Outcome implements TransferCallback {
        final AtomicInteger calls = new AtomicInteger();
        final AtomicReference<TransferException> error = new AtomicReference<>();

        @Override
        public void onDone() {
            calls.incrementAndGet();
        }

        @Override
        public void onError(TransferException e) {
            error.set(e);
            calls.incrementAndGet();
        }
    }
}
