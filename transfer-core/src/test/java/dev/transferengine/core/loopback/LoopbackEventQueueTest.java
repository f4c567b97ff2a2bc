package dev.transferengine.core.loopback;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The building blocks under the domains: the bounded MPMC event queue and the reorderable ring. */
class LoopbackEventQueueTest {

    @Test
    void queueIsFifoAndBounded() {
        EventQueue queue = new EventQueue(3);
        assertEquals(4, queue.capacity());
        for (int i = 0; i < 4; i++) {
            assertTrue(queue.offer(i, 10 + i, 20 + i, 30 + i));
        }
        assertFalse(queue.offer(9, 9, 9, 9), "full");
        long[] out = new long[6];
        for (int i = 0; i < 4; i++) {
            assertTrue(queue.poll(out, 2));
            assertArrayEquals(new long[] {0, 0, i, 10 + i, 20 + i, 30 + i}, out);
        }
        assertFalse(queue.poll(out, 0), "empty");
        assertTrue(queue.offer(1, 2, 3, 4), "room again after polling");
    }

    @Test
    void tinyQueuesStillHoldTwo() {
        EventQueue queue = new EventQueue(1);
        assertTrue(queue.offer(1, 0, 0, 0));
        assertTrue(queue.offer(2, 0, 0, 0));
        assertFalse(queue.offer(3, 0, 0, 0));
    }

    @Test
    void concurrentProducersAndConsumersLoseAndDuplicateNothing() throws Exception {
        EventQueue queue = new EventQueue(16);
        int producers = 2;
        int perProducer = 50_000;
        int total = producers * perProducer;
        int[] seen = new int[total];
        List<CompletableFuture<Void>> tasks = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int first = p * perProducer;
            tasks.add(CompletableFuture.runAsync(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                for (int v = first; v < first + perProducer; v++) {
                    while (!queue.offer(v, ~v, v * 3L, -v)) {
                        if (System.nanoTime() - deadline > 0) {
                            throw new AssertionError("producer stuck at " + v);
                        }
                        Thread.onSpinWait();
                    }
                }
            }, runnable -> new Thread(runnable).start()));
        }
        long[] out = new long[4];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        int received = 0;
        while (received < total && System.nanoTime() - deadline < 0) {
            if (queue.poll(out, 0)) {
                int v = (int) out[0];
                assertArrayEquals(new long[] {v, ~v, v * 3L, -v}, out, "a torn entry");
                seen[v]++;
                received++;
            }
        }
        for (CompletableFuture<Void> task : tasks) {
            task.get(60, TimeUnit.SECONDS);
        }
        assertEquals(total, received);
        for (int v = 0; v < total; v++) {
            assertEquals(1, seen[v], "value " + v);
        }
    }

    @Test
    void ringTakesInOrderOrAtRandomWithoutLosingAnything() {
        IntRing ring = new IntRing(8);
        for (int i = 0; i < 8; i++) {
            ring.add(i);
        }
        assertEquals(0, ring.take(null));
        assertEquals(1, ring.take(null));
        ring.add(8);
        ring.add(9);
        SplittableRandom random = new SplittableRandom(1);
        List<Integer> taken = new ArrayList<>();
        while (!ring.isEmpty()) {
            taken.add(ring.take(random));
        }
        assertEquals(8, taken.size());
        assertEquals(List.of(2, 3, 4, 5, 6, 7, 8, 9), taken.stream().sorted().toList());
        assertFalse(taken.equals(List.of(2, 3, 4, 5, 6, 7, 8, 9)), "seed 1 scrambles these 8");
    }
}
