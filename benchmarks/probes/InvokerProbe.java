import dev.transferengine.api.Access;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.GroupInvoker;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.ThreadingMode;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferRequest;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

/**
 * {@code WakeupProbe} with the engines in {@link ThreadingMode#INVOKER} (this thread drives both groups) and a third
 * pass that hands each 64 writes over in one batch submit; needs an engine with issue 10's API. Counts the context switches the hot path costs (docs/benchmark-results.md, "The hot path"): N one-at-a-time 64-byte
 * loopback writes, then N writes submitted 64 back to back, each awaited on a TransferCounter; prints wall time and
 * the voluntary (blocked: a park that slept) and involuntary (preempted) context switches of the whole process per
 * write, summed over /proc/self/task. Context switches are a property of the code path (who parks, who is woken),
 * much less of the machine's load than the time. Uses only the public API, so it runs against any engine jar:
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/transfer-bench.jar benchmarks/probes/InvokerProbe.java [N]</pre>
 */
public class InvokerProbe {
    public static void main(String[] args) throws IOException {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        Duration wait = Duration.ofSeconds(30);
        try (Arena arena = Arena.ofShared();
             TransferEngine a = TransferEngine.builder().name("probe-a").threadingMode(ThreadingMode.INVOKER).build();
             TransferEngine b = TransferEngine.builder().name("probe-b").threadingMode(ThreadingMode.INVOKER).build()) {
            GroupInvoker ia = a.invoker(0);
            MemoryRegion src = a.register(arena.allocate(64, 64), Access.LOCAL);
            MemoryRegion dst = b.register(arena.allocate(64, 64), Access.REMOTE_WRITE);
            SingleWrite write = SingleWrite.of(src, 0, 64, dst.descriptor(), 0);
            TransferCounter done = new TransferCounter();
            for (int i = 0; i < n; i++) { // warm-up: as many as measured, so the JIT has compiled the path
                a.submit(write, done);
                done.await(1, wait, ia);
            }
            long[] before = switches();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                a.submit(write, done);
                done.await(1, wait, ia);
            }
            report("one at a time", n, System.nanoTime() - t0, before, switches());
            before = switches();
            t0 = System.nanoTime();
            for (int i = 0; i < n; i += 64) {
                for (int k = 0; k < 64; k++) {
                    a.submit(write, done);
                }
                done.await(64, wait, ia);
            }
            report("64 back to back", n, System.nanoTime() - t0, before, switches());
            TransferRequest[] batch = new TransferRequest[64];
            java.util.Arrays.fill(batch, write);
            before = switches();
            t0 = System.nanoTime();
            for (int i = 0; i < n; i += 64) {
                a.submit(batch, 0, 64, done);
                done.await(64, wait, ia);
            }
            report("batch submit 64", n, System.nanoTime() - t0, before, switches());
            done.throwIfFailed();
        }
    }

    private static void report(String what, int n, long nanos, long[] before, long[] after) {
        System.out.printf("%-16s %8d writes  %8.2f us/write  voluntary %.3f/write  involuntary %.3f/write%n", what, n,
                nanos / 1e3 / n, (after[0] - before[0]) / (double) n, (after[1] - before[1]) / (double) n);
    }

    /** {voluntary, involuntary} context switches summed over the process's live threads. */
    private static long[] switches() throws IOException {
        long[] sum = new long[2];
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    for (String line : Files.readAllLines(t.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            sum[0] += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                            sum[1] += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                } catch (IOException ended) {
                    // a thread that ended meanwhile
                }
            }
        }
        return sum;
    }
}
