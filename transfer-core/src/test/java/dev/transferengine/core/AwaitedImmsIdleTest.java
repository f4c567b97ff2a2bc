package dev.transferengine.core;

import dev.transferengine.api.Access;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferTimeoutException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The default back-off parks an idle worker, but not within {@code idleGraceMicros} of its last work, nor while a
 * thread waits for imms that have not arrived: on tcp a parked target stalls the writer's byte stream (issue 10;
 * measured on the GPU machine, docs/benchmark-results.md). Once the grace has passed and the wait ended, it parks again.
 */
class AwaitedImmsIdleTest {

    @Test
    void workerKeepsPollingWhileImmsAreAwaitedAndParksOnceTheWaitEnds() throws Exception {
        try (TransferEngine engine = TransferEngine.builder().provider("loopback").build()) {
            Worker worker = ((DefaultTransferEngine) engine).worker(0);
            assertTrue(eventually(worker::isIdleWaiting, 5_000), "an idle worker with nothing expected parks");

            ImmCounter counter = engine.immCounter(0x51);
            CompletableFuture<Throwable> waiter = CompletableFuture.supplyAsync(() -> {
                try {
                    counter.await(1, Duration.ofMillis(1_500));
                    return null;
                } catch (RuntimeException e) {
                    return e;
                }
            });
            assertTrue(eventually(() -> counter.balance() < 0, 5_000), "the await reserved its imm");
            Thread.sleep(20); // a park begun before the reservation ends (the back-off parks at most 100 µs)
            long parkedSamples = 0;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            while (System.nanoTime() < deadline && counter.balance() < 0) {
                if (worker.isIdleWaiting()) {
                    parkedSamples++;
                }
                Thread.onSpinWait();
            }
            assertTrue(counter.balance() < 0, "the await was still pending while sampled");
            assertTrue(parkedSamples == 0, "the worker parked " + parkedSamples + " times while imms were awaited");

            assertInstanceOf(TransferTimeoutException.class, waiter.get(10, TimeUnit.SECONDS));
            assertFalse(counter.balance() < 0, "the timed-out await returned its reservation");
            assertTrue(eventually(worker::isIdleWaiting, 5_000), "with the wait over, the worker parks again");
        }
    }

    @Test
    void anArrivedImmDoesNotKeepTheWorkerPolling() throws Exception {
        try (TransferEngine engine = TransferEngine.builder().provider("loopback").build()) {
            Worker worker = ((DefaultTransferEngine) engine).worker(0);
            ImmCounter counter = engine.immCounter(0x52);
            dev.transferengine.api.internal.CounterAccess.addImms(counter, 1); // arrivals ahead of any wait: balance positive
            assertTrue(eventually(worker::isIdleWaiting, 5_000), "a counter with a surplus expects nothing");
            counter.await(1, Duration.ofSeconds(1));
            assertTrue(eventually(worker::isIdleWaiting, 5_000));
            assertThrows(TransferTimeoutException.class, () -> counter.await(1, Duration.ofMillis(1)));
        }
    }

    @Test
    void aWorkerKeepsPollingForTheGraceAfterItsLastWorkThenParks() throws Exception {
        try (TransferEngine engine = TransferEngine.builder().provider("loopback")
                .providerOption("idleGraceMicros", "400000").build();
             Arena arena = Arena.ofConfined()) {
            Worker worker = ((DefaultTransferEngine) engine).worker(0);
            assertTrue(eventually(worker::isIdleWaiting, 5_000), "parks once the start-up grace passed");
            MemorySegment memory = arena.allocate(4096);
            MemoryRegion region = engine.register(memory, Access.REMOTE_WRITE);
            TransferCounter done = new TransferCounter();
            engine.submit(SingleWrite.of(region, 0, 64, RemoteRegion.fromHex(region.descriptor().toHex()), 1024), done);
            done.await(1, Duration.ofSeconds(10));
            long writeDone = System.nanoTime();
            long parkedSamples = 0;
            while (System.nanoTime() - writeDone < TimeUnit.MILLISECONDS.toNanos(200)) {
                if (worker.isIdleWaiting()) {
                    parkedSamples++;
                }
                Thread.onSpinWait();
            }
            assertTrue(parkedSamples == 0, "the worker parked " + parkedSamples + " times within its 400 ms grace");
            assertTrue(eventually(worker::isIdleWaiting, 5_000), "parks once the grace passed");
        }
    }

    @Test
    void aBadGraceIsRefusedAtBuild() {
        for (String bad : new String[] {"-1", "ten", "10000001"}) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> TransferEngine.builder()
                    .provider("loopback").providerOption("idleGraceMicros", bad).build());
            assertTrue(e.getMessage().contains("idleGraceMicros"), e.getMessage());
        }
    }

    private static boolean eventually(java.util.function.BooleanSupplier condition, long millis)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(0, 100_000);
        }
        return condition.getAsBoolean();
    }
}
