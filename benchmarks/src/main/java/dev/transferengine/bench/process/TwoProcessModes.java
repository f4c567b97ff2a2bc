package dev.transferengine.bench.process;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.cli.ProviderChoice;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** What {@code server} and {@code client} share. Stateless. */
public final class TwoProcessModes {
    /** Receive buffers each side posts for the other's messages. */
    public static final int RECEIVE_BUFFERS = 8;

    private TwoProcessModes() {
    }

    /** The loopback provider lives inside one JVM: two processes cannot reach each other through it. */
    public static void requireCrossProcess(ProviderChoice provider) {
        if (provider == ProviderChoice.LOOPBACK) {
            throw new IllegalArgumentException("the loopback provider cannot cross processes: use --provider tcp, "
                    + "shm, efa or verbs (or `transfer-bench local` for two engines in one process)");
        }
    }

    /** Sends {@code length} bytes of {@code region} and waits for the send to complete (the buffer is reusable). */
    public static void sendAndWait(TransferEngine engine, DomainAddress to, MemoryRegion region, long length,
                                   Duration timeout, String what) {
        try {
            engine.send(to, region, 0, length).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new BenchFailure("sending " + what + " failed: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new BenchFailure("sending " + what + " took longer than " + timeout.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BenchFailure("interrupted while sending " + what, e);
        }
    }
}
