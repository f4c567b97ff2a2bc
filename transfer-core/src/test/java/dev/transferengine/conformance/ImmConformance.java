package dev.transferengine.conformance;

import dev.transferengine.api.Access;
import dev.transferengine.api.Barrier;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.ImmExpectation;
import dev.transferengine.api.ImmWrite;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.Routing;
import dev.transferengine.api.Scatter;
import dev.transferengine.api.ScatterRouting;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.Subscription;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferRequest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Conformance, part 2: receivers count exactly the imms {@link dev.transferengine.api.ImmAccounting}
 * promises; expectations fire once; counters work for imms before and after the await; surplus and uncounted imms reach the
 * {@code onImm} handlers; and every completion form (callback, future, counter) completes exactly once.
 */
public abstract class ImmConformance extends ConformanceSection {
    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void receiverCountsExactlyWhatImmAccountingPromisesForEveryRequestType(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(64 * KIB);
        GuardedBuffer dstBuf = f.buffer(256 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        List<IntFunction<TransferRequest>> shapes = List.of(
                imm -> SingleWrite.withImm(src, 0, 1000, dst, 0, imm),
                imm -> SingleWrite.withImm(src, 0, 0, dst, 0, imm),
                imm -> SingleWrite.withImm(src, 0, 50_000, dst, 0, imm).routed(Routing.sharded(Math.max(1, nics - 1))),
                imm -> SingleWrite.withImm(src, 0, 1000, dst, 0, imm).routed(Routing.pinned(nics - 1)),
                imm -> new PagedWrite(100, src, new int[] {0, 1, 2, 3, 4}, 100, 0, dst, new int[] {4, 3, 2, 1, 0}, 100,
                        0, OptionalInt.of(imm)),
                imm -> new Scatter(src, targets(dst, 3), OptionalInt.of(imm), ScatterRouting.SHARD_PEERS),
                imm -> new Scatter(src, targets(dst, 3), OptionalInt.of(imm), ScatterRouting.SHARD_BYTES),
                imm -> new Scatter(src, targets(dst, 3), OptionalInt.of(imm), ScatterRouting.pinned(0)),
                imm -> new Barrier(List.of(dst, dst), imm, Routing.allNics()),
                imm -> new ImmWrite(dst, imm, Routing.allNics()));
        List<TransferRequest> requests = new ArrayList<>();
        List<ImmCounter> counters = new ArrayList<>();
        for (var shape : shapes) {
            int imm = nextImm();
            counters.add(f.b.immCounter(imm));
            requests.add(shape.apply(imm));
        }
        TransferCounter done = new TransferCounter();
        requests.forEach(r -> f.a.submit(r, done));
        done.await(requests.size(), Waits.DEADLINE);
        done.throwIfFailed();
        for (int i = 0; i < requests.size(); i++) {
            long expected = imms(requests.get(i), nics);
            counters.get(i).await(expected, Waits.DEADLINE);
            assertEquals(expected, counters.get(i).arrived(), "imms of " + requests.get(i));
        }
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void expectImmsFiresExactlyOnceAndSurplusImmsBecomeEvents(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(64 * KIB);
        GuardedBuffer dstBuf = f.buffer(64 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        ImmRecorder events = new ImmRecorder();
        f.b.onImm(events);
        int imm = nextImm();
        SingleWrite write = SingleWrite.withImm(src, 0, 30_000, dst, 0, imm);
        long expected = imms(write, nics) + 1;
        AtomicInteger fired = new AtomicInteger();
        CountDownLatch reached = new CountDownLatch(1);
        ImmExpectation expectation = f.b.expectImms(imm, expected, () -> {
            fired.incrementAndGet();
            reached.countDown();
        });
        assertEquals(imm, expectation.imm());
        assertEquals(expected, expectation.expected());

        // the expected imms, plus two surplus ones in the same burst
        Waits.get(f.a.submit(write), "sharded write");
        for (int i = 0; i < 3; i++) {
            Waits.get(f.a.submit(ImmWrite.of(dst, imm)), "imm write");
        }
        Waits.await(reached, "the expectation to fire");
        events.awaitAtLeast(imm, 2);
        assertTrue(expectation.isReached());
        assertEquals(expected, expectation.counted());
        assertFalse(expectation.cancel(), "a reached expectation cannot be cancelled");

        // later imms of the value are events too; the callback never runs again
        for (int i = 0; i < 5; i++) {
            Waits.get(f.a.submit(ImmWrite.of(dst, imm)), "late imm write");
        }
        events.awaitAtLeast(imm, 7);
        assertEquals(7, events.count(imm));
        assertEquals(1, fired.get(), "expectImms callback invocations");
        assertFalse(f.b.removeImmCounter(imm), "a reached expectation is removed");

        // the value can be expected again
        CountDownLatch again = new CountDownLatch(1);
        f.b.expectImms(imm, 2, again::countDown);
        Waits.get(f.a.submit(ImmWrite.of(dst, imm)), "re-armed imm 1");
        Waits.get(f.a.submit(ImmWrite.of(dst, imm)), "re-armed imm 2");
        Waits.await(again, "the re-armed expectation");
        assertEquals(1, fired.get());
        srcBuf.assertMatches("source");
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void immCounterAwaitWorksForImmsBeforeAndAfterTheCall(int nics) throws Exception {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer dstBuf = f.buffer(4 * KIB);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        ImmCounter counter = f.b.immCounter(imm);
        assertSame(counter, f.b.immCounter(imm), "one counter per value");

        // before: the imms have all arrived when await is called
        for (int i = 0; i < 3; i++) {
            Waits.get(f.a.submit(new ImmWrite(dst, imm, Routing.pinned(i % nics))), "early imm " + i);
        }
        Waits.until(() -> counter.arrived() == 3, () -> "3 early imms (have " + counter.arrived() + ")");
        counter.await(3, Waits.DEADLINE);

        // after: the waiter is already parked when the imms are sent
        FutureTaskThread waiter = FutureTaskThread.start(() -> counter.await(4, Waits.DEADLINE));
        Waits.until(() -> counter.balance() == -4, () -> "the waiter to reserve 4 (balance " + counter.balance() + ")");
        for (int i = 0; i < 4; i++) {
            Waits.get(f.a.submit(ImmWrite.of(dst, imm)), "late imm " + i);
        }
        waiter.join("the waiting await");
        assertEquals(7, counter.arrived());
        assertEquals(0, counter.balance());
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void removeImmCounterCancelsAndLaterImmsBecomeEvents(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer dstBuf = f.buffer(4 * KIB);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        ImmRecorder events = new ImmRecorder();
        f.b.onImm(events);

        int counted = nextImm();
        ImmCounter counter = f.b.immCounter(counted);
        Waits.get(f.a.submit(ImmWrite.of(dst, counted)), "counted imm");
        Waits.until(() -> counter.arrived() == 1, () -> "the counted imm");
        assertTrue(f.b.removeImmCounter(counted));
        assertFalse(f.b.removeImmCounter(counted), "removing twice");
        Waits.get(f.a.submit(ImmWrite.of(dst, counted)), "imm after removal");
        events.awaitAtLeast(counted, 1);
        assertEquals(1, counter.arrived(), "a removed counter counts no more");

        int expected = nextImm();
        AtomicInteger fired = new AtomicInteger();
        ImmExpectation expectation = f.b.expectImms(expected, 5, fired::incrementAndGet);
        for (int i = 0; i < 2; i++) {
            Waits.get(f.a.submit(ImmWrite.of(dst, expected)), "expected imm " + i);
        }
        Waits.until(() -> expectation.counted() == 2, () -> "2 counted (have " + expectation.counted() + ")");
        assertTrue(f.b.removeImmCounter(expected));
        assertFalse(expectation.cancel(), "already cancelled by removeImmCounter");
        for (int i = 0; i < 3; i++) {
            Waits.get(f.a.submit(ImmWrite.of(dst, expected)), "imm after cancel " + i);
        }
        events.awaitAtLeast(expected, 3);
        assertEquals(0, fired.get(), "a cancelled expectation must not fire");
        assertFalse(expectation.isReached());

        int viaCancel = nextImm();
        ImmExpectation cancelled = f.b.expectImms(viaCancel, 1, fired::incrementAndGet);
        assertTrue(cancelled.cancel());
        Waits.get(f.a.submit(ImmWrite.of(dst, viaCancel)), "imm after ImmExpectation.cancel");
        events.awaitAtLeast(viaCancel, 1);
        assertEquals(0, fired.get());
        assertFalse(f.b.removeImmCounter(nextImm()), "removing an unknown value");
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void uncountedImmsReachEveryHandlerUntilItUnsubscribes(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer dstBuf = f.buffer(4 * KIB);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        ImmRecorder first = new ImmRecorder();
        ImmRecorder second = new ImmRecorder();
        Subscription s1 = f.b.onImm(first);
        f.b.onImm(second);
        int imm = nextImm();
        Waits.get(f.a.submit(ImmWrite.of(dst, imm)), "imm 1");
        first.awaitAtLeast(imm, 1);
        second.awaitAtLeast(imm, 1);
        s1.close();
        s1.close();
        Waits.get(f.a.submit(ImmWrite.of(dst, imm)), "imm 2");
        second.awaitAtLeast(imm, 2);
        assertEquals(1, first.count(imm), "an unsubscribed handler got an imm");
    }

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void immTableRejectsConflictingRegistrations(int nics) {
        ConformanceFixture f = fixture(nics);
        int imm = nextImm();
        assertInvalid(() -> f.b.expectImms(imm, 0, () -> { }), "expectImms count 0");
        assertInvalid(() -> f.b.expectImms(imm, -1, () -> { }), "expectImms count -1");
        f.b.expectImms(imm, 3, () -> { });
        assertInvalid(() -> f.b.expectImms(imm, 3, () -> { }), "second expectation of one value");
        assertInvalid(() -> f.b.immCounter(imm), "counter while an expectation is active");
        assertTrue(f.b.removeImmCounter(imm));
        f.b.immCounter(imm);
        assertInvalid(() -> f.b.expectImms(imm, 1, () -> { }), "expectation while a counter exists");
    }

    // ---------------------------------------------------------------------------------------------
    // Completion forms
    // ---------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} NICs")
    @MethodSource("nics")
    void everyCompletionFormCompletesExactlyOnce(int nics) {
        ConformanceFixture f = fixture(nics);
        GuardedBuffer srcBuf = f.buffer(64 * KIB);
        GuardedBuffer dstBuf = f.buffer(64 * KIB);
        MemoryRegion src = f.register(f.a, srcBuf, Access.LOCAL);
        RemoteRegion dst = f.register(f.b, dstBuf, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        ImmCounter arrived = f.b.immCounter(imm);
        SingleWrite write = SingleWrite.withImm(src, 0, 20_000, dst, 0, imm);
        dstBuf.expectCopy(srcBuf, 0, 0, 20_000);

        RecordingCallback callback = new RecordingCallback();
        f.a.submit(write, callback);
        callback.assertDoneOnce("callback form");

        Waits.get(f.a.submit(write), "future form");

        TransferCounter counter = f.a.newTransferCounter();
        for (int i = 0; i < 100; i++) {
            f.a.submit(write, counter); // the same request instance, re-submitted
        }
        counter.await(100, Waits.DEADLINE);
        assertEquals(100, counter.completed());
        assertEquals(0, counter.failed(), () -> "counter form: " + counter.firstError());

        long expected = 102 * imms(write, nics);
        arrived.await(expected, Waits.DEADLINE);
        assertEquals(expected, arrived.arrived());
        assertEquals(1, callback.invocations(), "the callback was invoked again later");
        assertEquals(100, counter.completed(), "the counter was completed again later");
        dstBuf.assertMatches("completion forms");
    }
}
