package dev.transferengine.core;

import dev.transferengine.api.Access;
import dev.transferengine.api.EngineHealth;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A worker whose provider throws from poll stops, fails what it held, and the engine says so at once. */
class WorkerFailureTest {
    @AfterEach
    void reset() {
        FailingPollProvider.FAIL = false;
        FailingPollProvider.ARMED = false;
    }

    @Test
    void aDeadWorkerFailsItsTransfersAndLaterCallsFailFast() throws Exception {
        try (Arena arena = Arena.ofShared();
             TransferEngine a = TransferEngine.builder().provider("failing-poll").name("fail-a")
                     .transferTimeout(Duration.ofSeconds(60)).build();
             TransferEngine b = TransferEngine.builder().provider("failing-poll").name("fail-b").build()) {
            MemoryRegion src = a.register(arena.allocate(4096), Access.LOCAL);
            MemoryRegion dst = b.register(arena.allocate(4096), Access.REMOTE_WRITE);
            TransferRequest write = SingleWrite.of(src, 0, 4096, dst.descriptor(), 0);
            a.submit(write).get(30, TimeUnit.SECONDS); // healthy first

            FailingPollProvider.FAIL = true;
            CompletableFuture<Void> pending = a.submit(write);
            ExecutionException e = assertThrows(ExecutionException.class, () -> pending.get(30, TimeUnit.SECONDS));
            TransferException cause = assertInstanceOf(TransferException.class, e.getCause());
            assertEquals(ErrorCategory.INTERNAL, cause.category(),
                    "held transfers fail when the worker dies, got " + cause);
            assertEquals(EngineHealth.WorkerState.FAILED, a.health().group(0).state());

            long start = System.nanoTime();
            TransferException later = assertThrows(TransferException.class, () -> a.submit(write));
            assertEquals(ErrorCategory.INTERNAL, later.category());
            assertTrue(later.getMessage().contains("injected"), later.getMessage());
            assertThrows(TransferException.class, () -> a.register(arena.allocate(64), Access.LOCAL));
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "failing fast, not by timeout");
        }
    }
}
