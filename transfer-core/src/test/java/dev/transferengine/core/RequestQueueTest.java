package dev.transferengine.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The request queue on its own: order, pairs kept together, room, batch claims, the take-over, many producers. */
class RequestQueueTest {
    private record Item(int producer, long sequence) {
    }

    @Test
    void pairsComeOutInOfferOrderAndTheRingRefusesWhenFull() {
        RequestQueue q = new RequestQueue(4);
        assertEquals(4, q.capacity());
        assertTrue(q.isEmpty());
        for (int i = 0; i < 4; i++) {
            assertTrue(q.offer("p" + i, "c" + i));
        }
        assertFalse(q.offer("p4", "c4"), "a full ring refuses");
        List<String> seen = new ArrayList<>();
        assertEquals(2, q.drain((p, c) -> seen.add(p + "/" + c), 2));
        assertTrue(q.offer("p4", "c4"), "room again after a drain");
        assertTrue(q.offer("p5", "c5"));
        assertFalse(q.offer("p6", "c6"));
        assertEquals(4, q.drain((p, c) -> seen.add(p + "/" + c), 100));
        assertEquals(List.of("p0/c0", "p1/c1", "p2/c2", "p3/c3", "p4/c4", "p5/c5"), seen);
        assertTrue(q.isEmpty());
        assertEquals(0, q.drain((p, c) -> seen.add("unexpected"), 100));
    }

    @Test
    void aCompletionMayBeNull() {
        RequestQueue q = new RequestQueue(2);
        assertTrue(q.offer("p", null));
        Object[] got = new Object[2];
        assertEquals(1, q.drain((p, c) -> {
            got[0] = p;
            got[1] = c;
        }, 10));
        assertSame("p", got[0]);
        assertNull(got[1]);
    }

    @Test
    void aBatchClaimTakesAllOrNothingAndItsPositionsMayBePublishedOutOfOrder() {
        RequestQueue q = new RequestQueue(8);
        assertTrue(q.offer("a", 0));
        assertEquals(-1, q.claim(8), "only 7 free");
        long first = q.claim(4);
        assertEquals(1, first);
        q.publish(first + 2, "d", 3);
        List<Object> seen = new ArrayList<>();
        assertEquals(1, q.drain((p, c) -> seen.add(p), 100), "stops at the first unpublished position");
        q.publish(first, "b", 1);
        q.publish(first + 1, "c", 2);
        q.publish(first + 3, "e", 4);
        assertEquals(4, q.drain((p, c) -> seen.add(p), 100));
        assertEquals(List.of("a", "b", "c", "d", "e"), seen);
        assertEquals(5, q.claim(8), "the whole ring once drained");
    }

    @Test
    void afterATakeOverTheWorkerDrainsNothingAndNothingIsHandedOutTwice() {
        RequestQueue q = new RequestQueue(8);
        for (int i = 0; i < 5; i++) {
            assertTrue(q.offer(i, null));
        }
        List<Object> closer = new ArrayList<>();
        assertEquals(5, q.takeOver((p, c) -> closer.add(p), TimeUnit.SECONDS.toNanos(1)));
        assertTrue(q.offer(5, null));
        assertEquals(0, q.drain((p, c) -> closer.add("worker got " + p), 100));
        assertEquals(0, q.takeOver((p, c) -> closer.add("again " + p), TimeUnit.SECONDS.toNanos(1)));
        assertEquals(List.of(0, 1, 2, 3, 4), closer);
    }

    @Test
    void aTakeOverWaitsForADrainInProgressAndGivesUpAtItsDeadline() throws Exception {
        RequestQueue q = new RequestQueue(8);
        assertTrue(q.offer("first", null));
        assertTrue(q.offer("second", null));
        CountDownLatch inDrain = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<Object> worker = new ArrayList<>();
        Thread drainer = Thread.ofPlatform().start(() -> q.drain((p, c) -> {
            worker.add(p);
            inDrain.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, 1));
        assertTrue(inDrain.await(10, TimeUnit.SECONDS));
        List<Object> closer = new ArrayList<>();
        assertEquals(-1, q.takeOver((p, c) -> closer.add(p), TimeUnit.MILLISECONDS.toNanos(50)));
        release.countDown();
        drainer.join(10_000);
        assertEquals(1, q.takeOver((p, c) -> closer.add(p), TimeUnit.SECONDS.toNanos(10)));
        assertEquals(List.of("first"), worker);
        assertEquals(List.of("second"), closer);
    }

    /** Four producers (single offers and batch claims mixed) against one consumer through a ring of 64. */
    @Test
    void manyProducersOneConsumerEveryElementExactlyOnceInEachProducersOrder() throws Exception {
        int producers = 4;
        int perProducer = 200_000;
        RequestQueue q = new RequestQueue(64);
        AtomicBoolean failed = new AtomicBoolean();
        AtomicInteger done = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int id = 0; id < producers; id++) {
            int producer = id;
            threads.add(Thread.ofPlatform().start(() -> {
                long next = 0;
                while (next < perProducer) {
                    if (producer % 2 == 1 && next + 3 <= perProducer) {
                        long first = q.claim(3);
                        if (first >= 0) {
                            for (int k = 2; k >= 0; k--) { // publish out of order on purpose
                                q.publish(first + k, new Item(producer, next + k), producer);
                            }
                            next += 3;
                            continue;
                        }
                    } else if (q.offer(new Item(producer, next), producer)) {
                        next++;
                        continue;
                    }
                    Thread.onSpinWait();
                }
                done.incrementAndGet();
            }));
        }
        long[] expected = new long[producers];
        long total = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (total < (long) producers * perProducer && System.nanoTime() < deadline) {
            total += q.drain((p, c) -> {
                Item item = (Item) p;
                if (item.sequence() != expected[item.producer()] || !c.equals(item.producer())) {
                    failed.set(true);
                }
                expected[item.producer()]++;
            }, 32);
        }
        for (Thread t : threads) {
            t.join(10_000);
        }
        assertFalse(failed.get(), "an element came out of its producer's order or lost its completion");
        assertEquals(producers, done.get());
        assertEquals((long) producers * perProducer, total);
        for (long e : expected) {
            assertEquals(perProducer, e);
        }
        assertTrue(q.isEmpty());
    }
}
