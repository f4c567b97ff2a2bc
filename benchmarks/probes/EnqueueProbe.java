import dev.transferengine.api.Access;
import dev.transferengine.api.GroupInvoker;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.ThreadingMode;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.Arrays;

/**
 * How long {@code submit} takes on the caller's thread (the reference's "enqueue" figure, issue 10): rounds of 64
 * back-to-back 64-byte loopback writes against one TransferCounter, each submit timed with {@code System.nanoTime}
 * around it, the round then awaited (untimed). The clock's own cost, two back-to-back reads, is measured in the same
 * run and printed beside it. Public API only:
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/transfer-bench.jar benchmarks/probes/EnqueueProbe.java [rounds] [dedicated|invoker]</pre>
 *
 * <p>{@code invoker}: no worker threads; the probe's thread submits the round, then drives the writer's group until
 * the round is done, and a second thread drives the target's. Nothing reads the request queue while a submit runs,
 * so the difference to {@code dedicated} is what a worker spinning on another core costs the submitter.
 */
public class EnqueueProbe {
    private static final int BATCH = 64;

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
        ThreadingMode mode = args.length > 1 ? ThreadingMode.valueOf(args[1].toUpperCase()) : ThreadingMode.DEDICATED;
        Duration wait = Duration.ofSeconds(30);
        try (Arena arena = Arena.ofShared();
             TransferEngine a = TransferEngine.builder().name("enqueue-a").threadingMode(mode).build();
             TransferEngine b = TransferEngine.builder().name("enqueue-b").threadingMode(mode).build()) {
            GroupInvoker writer = mode == ThreadingMode.INVOKER ? a.invoker(0) : null;
            Thread target = mode == ThreadingMode.INVOKER ? Thread.ofPlatform().daemon().start(() -> {
                GroupInvoker invoker = b.invoker(0);
                while (!Thread.currentThread().isInterrupted()) {
                    invoker.invoke();
                }
            }) : null;
            MemoryRegion src = a.register(arena.allocate(64, 64), Access.LOCAL);
            MemoryRegion dst = b.register(arena.allocate(64, 64), Access.REMOTE_WRITE);
            SingleWrite write = SingleWrite.of(src, 0, 64, dst.descriptor(), 0);
            TransferCounter done = new TransferCounter();
            long[] submit = new long[rounds * BATCH];
            long[] clock = new long[rounds * BATCH];
            for (int pass = 0; pass < 2; pass++) { // the first pass warms the JIT up and is thrown away
                for (int r = 0; r < rounds; r++) {
                    for (int k = 0; k < BATCH; k++) {
                        long c0 = System.nanoTime();
                        long c1 = System.nanoTime();
                        long t0 = System.nanoTime();
                        a.submit(write, done);
                        long t1 = System.nanoTime();
                        clock[r * BATCH + k] = c1 - c0;
                        submit[r * BATCH + k] = t1 - t0;
                    }
                    if (writer != null) {
                        done.await(BATCH, wait, writer);
                    } else {
                        done.await(BATCH, wait);
                    }
                }
            }
            done.throwIfFailed();
            if (target != null) {
                target.interrupt();
                try {
                    target.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Arrays.sort(submit);
            Arrays.sort(clock);
            int n = submit.length;
            System.out.printf("[%s] submit of a 64 B write, %d calls: p50 %d ns, p90 %d ns, p99 %d ns, p99.9 %d ns"
                            + " (the clock alone: p50 %d ns, p99 %d ns)%n", mode, n, submit[n / 2], submit[n * 9 / 10],
                    submit[n * 99 / 100], submit[n * 999 / 1000], clock[n / 2], clock[n * 99 / 100]);
        }
    }
}
