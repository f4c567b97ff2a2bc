package dev.transferengine.cuda;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.IdleStrategy;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferTimeoutException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The watcher's logic on plain host memory: another Java thread plays the GPU and writes the words. Uses a
 * parking idle strategy so the test does not hold a core of a shared CI machine.
 */
class GpuSignalWatcherTest {
    private static final long DEVICE_OFFSET = 0x1_0000_0000L;
    private static final Duration CLOSE_TIMEOUT = Duration.ofMillis(500);

    private final Arena arena = Arena.ofShared();
    private final AtomicBoolean freed = new AtomicBoolean();

    private GpuSignalWatcher watcher(int signals) {
        MemorySegment words = arena.allocate(JAVA_LONG, signals);
        return new GpuSignalWatcher(words, host -> host + DEVICE_OFFSET, IdleStrategy.backoff(100, 10, 1_000, 100_000),
                CLOSE_TIMEOUT, () -> {
                    freed.set(true);
                    arena.close();
                });
    }

    @Test
    void everyActionFiresExactlyOnceWhateverTheOrderOfWrites() throws Exception {
        int n = 64;
        AtomicIntegerArray fired = new AtomicIntegerArray(n);
        CountDownLatch all = new CountDownLatch(n);
        try (GpuSignalWatcher w = watcher(n)) {
            List<GpuSignalWatcher.Signal> signals = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                GpuSignalWatcher.Signal s = w.newSignal();
                assertEquals(s.hostAddress() + DEVICE_OFFSET, s.deviceAddress());
                assertEquals(0, s.value());
                int index = i;
                w.watch(s, 10 + i, () -> {
                    fired.incrementAndGet(index);
                    all.countDown();
                });
                signals.add(s);
            }
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                order.add(i);
            }
            Collections.shuffle(order);
            Thread gpu = Thread.ofPlatform().start(() -> {
                for (int i : order) {
                    signals.get(i).set(9 + i); // one short of the target: must not fire
                }
                for (int i : order) {
                    signals.get(i).set(10 + i + (i % 3)); // at or above the target
                }
            });
            gpu.join(10_000);
            assertTrue(all.await(10, TimeUnit.SECONDS), "not every action fired");
            for (int i = 0; i < n; i++) {
                signals.get(i).set(1_000 + i); // further writes must not fire again
            }
            Thread.sleep(50);
            for (int i = 0; i < n; i++) {
                assertEquals(1, fired.get(i), "signal " + i);
                assertTrue(signals.get(i).seenNanos() > 0, "seen time of signal " + i);
            }
        }
        assertTrue(freed.get(), "the watcher thread frees the words as it stops");
    }

    @Test
    void watchesOnOneSignalFireAsTheValueRises() throws Exception {
        try (GpuSignalWatcher w = watcher(1)) {
            GpuSignalWatcher.Signal s = w.newSignal();
            List<Long> seen = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch three = new CountDownLatch(3);
            for (long target : new long[]{1, 2, 3}) {
                w.watch(s, target, () -> {
                    seen.add(target);
                    three.countDown();
                });
            }
            s.set(2);
            awaitSize(seen, 2);
            assertEquals(List.of(1L, 2L), seen.stream().sorted().toList());
            s.set(3);
            assertTrue(three.await(5, TimeUnit.SECONDS));
            w.watch(s, 3, seen::clear); // already reached: fires at once
            awaitSize(seen, 0);
        }
    }

    @Test
    void aThrowingActionDoesNotStopTheWatcher() throws Exception {
        try (GpuSignalWatcher w = watcher(2)) {
            GpuSignalWatcher.Signal bad = w.newSignal();
            GpuSignalWatcher.Signal good = w.newSignal();
            CountDownLatch ran = new CountDownLatch(1);
            w.watch(bad, 1, () -> {
                throw new IllegalStateException("expected by the test");
            });
            w.watch(good, 1, ran::countDown);
            bad.set(1);
            good.set(1);
            assertTrue(ran.await(5, TimeUnit.SECONDS));
            assertTrue(w.isRunning());
        }
    }

    @Test
    void signalWordsRunOutAndComeBack() {
        try (GpuSignalWatcher w = watcher(2)) {
            GpuSignalWatcher.Signal a = w.newSignal();
            w.newSignal();
            TransferException full = assertThrows(TransferException.class, w::newSignal);
            assertEquals(ErrorCategory.BACK_PRESSURE, full.category());
            a.set(77);
            a.release();
            a.release();
            assertThrows(InvalidRequestException.class, () -> w.watch(a, 1, () -> { }));
            GpuSignalWatcher.Signal again = w.newSignal();
            assertEquals(a.hostAddress(), again.hostAddress());
            assertEquals(0, again.value(), "a reused word starts at 0");
        }
    }

    @Test
    void closeStopsTheThreadWithinItsBoundAndLaterUseFails() {
        GpuSignalWatcher w = watcher(4);
        GpuSignalWatcher.Signal s = w.newSignal();
        AtomicInteger fired = new AtomicInteger();
        w.watch(s, 5, fired::incrementAndGet);
        long start = System.nanoTime();
        w.close();
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMillis < CLOSE_TIMEOUT.toMillis(), "close took " + tookMillis + " ms");
        assertFalse(w.isRunning());
        assertTrue(freed.get());
        w.close();
        assertThrows(ClosedException.class, w::newSignal);
        assertThrows(ClosedException.class, () -> w.watch(s, 1, () -> { }));
        assertEquals(0, fired.get(), "a watch still waiting at close never runs");
    }

    @Test
    void closeGivesUpOnAStuckActionAfterTheBound() throws Exception {
        GpuSignalWatcher w = watcher(1);
        GpuSignalWatcher.Signal s = w.newSignal();
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        w.watch(s, 1, () -> {
            entered.countDown();
            while (true) { // a stuck action: ignores the interrupt close sends
                try {
                    release.await();
                    return;
                } catch (InterruptedException e) {
                    // keep waiting
                }
            }
        });
        s.set(1);
        assertTrue(entered.await(5, TimeUnit.SECONDS));
        long start = System.nanoTime();
        assertThrows(TransferTimeoutException.class, w::close);
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMillis < CLOSE_TIMEOUT.toMillis() + 500, "close took " + tookMillis + " ms");
        assertFalse(freed.get(), "words stay allocated while the thread may still read them");
        release.countDown();
        for (int i = 0; i < 100 && !freed.get(); i++) {
            Thread.sleep(50);
        }
        assertTrue(freed.get(), "the thread frees the words once the action returns");
    }

    private static void awaitSize(List<?> list, int size) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (list.size() != size && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(size, list.size());
    }
}
