package dev.transferengine.kits.kv;

import dev.transferengine.api.Access;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.efa.LibfabricProvider;
import dev.transferengine.spi.Availability;
import dev.transferengine.testing.ChildJvm;
import org.junit.jupiter.api.Assumptions;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The kv package's multi-process plumbing: {@link #main} is a prefill side (its tensor-parallel ranks, each with
 * its own engine, caches holding {@link KvPattern} as in {@link KvRig}) in a child JVM that prints
 * {@code READY <rank addresses in hex>} and then runs every job it receives, chunk by chunk and layer by layer,
 * printing {@code DONE <id>}; with a stall layer it runs only the layers below it and prints {@code STALLED <id>}.
 * {@link Child} starts it in a {@link ChildJvm}, which reads its stdout with a deadline on every wait.
 */
final class KvProcesses {
    static final Duration DEADLINE = Duration.ofSeconds(90);

    private KvProcesses() {
    }

    /** Skips the calling test when libfabric cannot be loaded here. */
    static void assumeLibfabric() {
        Availability a = new LibfabricProvider().availability();
        Assumptions.assumeTrue(a.available(), () -> "libfabric is not usable here: " + a.reason());
    }

    /** Args: provider, prefill TP, capacity pages, chunk tokens, stall layer (-1: none), then the 5 layout ints. */
    public static void main(String[] args) throws IOException {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.US_ASCII);
        System.setOut(System.err);
        String provider = args[0];
        int tp = Integer.parseInt(args[1]);
        int capacity = Integer.parseInt(args[2]);
        int chunkTokens = Integer.parseInt(args[3]);
        int stallLayer = Integer.parseInt(args[4]);
        KvLayout layout = new KvLayout(Integer.parseInt(args[5]), Integer.parseInt(args[6]), Integer.parseInt(args[7]),
                Integer.parseInt(args[8]), Integer.parseInt(args[9]));
        ExecutorService compute = Executors.newSingleThreadExecutor();
        List<TransferEngine> engines = new ArrayList<>();
        List<KvPrefiller> prefillers = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            StringBuilder ready = new StringBuilder("READY");
            for (int p = 0; p < tp; p++) {
                TransferEngine e = TransferEngine.builder().provider(provider).name("kv-child-" + p).build();
                engines.add(e);
                MemorySegment kv = arena.allocate(KvCache.requiredBytes(layout, tp, capacity), 4096);
                KvCache cache = new KvCache(layout, p, tp, e.register(kv, Access.REMOTE_WRITE), capacity);
                KvPattern.fill(cache, KvRig.sourcePages(capacity, capacity), KvRig.SEED);
                MemorySegment ctx = arena.allocate(KvRig.CONTEXT_BYTES, 4096);
                KvRig.fillContext(ctx, p);
                MemoryRegion context = e.register(ctx, Access.LOCAL);
                KvPrefiller prefiller = new KvPrefiller(e, cache, chunkTokens, n -> KvRig.sourcePages(capacity, n),
                        job -> compute.execute(() -> run(job, context, layout, stallLayer, out)));
                prefillers.add(prefiller);
                ready.append(' ').append(prefiller.address().toHex());
            }
            out.println(ready);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
            for (String line = in.readLine(); line != null && !line.equals("quit"); line = in.readLine()) {
                out.println("ERROR unknown command " + line);
            }
        } finally {
            compute.shutdownNow();
            prefillers.forEach(KvPrefiller::close);
            engines.forEach(TransferEngine::close);
        }
    }

    private static void run(KvPrefillJob job, MemoryRegion context, KvLayout layout, int stallLayer, PrintStream out) {
        int layers = stallLayer < 0 ? layout.layers() : stallLayer;
        KvRig.runLayers(job, layers);
        if (stallLayer >= 0) {
            // Killed right after this line, with its writes possibly still in flight and its worker inside
            // libfabric: over shm the decoder recovers from locks the dead process left taken (ShmLockSentinel).
            out.println("STALLED " + job.requestId());
            return;
        }
        job.contextReady(context, 0);
        out.println("DONE " + job.requestId());
    }

    /** A prefill side in a child JVM. Not thread-safe: one test thread talks to it. */
    static final class Child implements AutoCloseable {
        private final ChildJvm child;
        final List<DomainAddress> addresses = new ArrayList<>();

        Child(String provider, int prefillTp, int capacity, int chunkTokens, int stallLayer, KvLayout layout)
                throws IOException, InterruptedException {
            List<String> args = new ArrayList<>(List.of(provider, Integer.toString(prefillTp),
                    Integer.toString(capacity), Integer.toString(chunkTokens), Integer.toString(stallLayer)));
            for (int v : new int[] {layout.layers(), layout.kvHeads(), layout.headDim(), layout.bytesPerElement(),
                    layout.pageTokens()}) {
                args.add(Integer.toString(v));
            }
            child = ChildJvm.builder(KvProcesses.class).jvmArgs("-Xmx256m").args(args)
                    .env("IPATH_NO_BACKTRACE", "1").quitLine("quit").deadline(DEADLINE).start();
            try {
                String[] ready = expect("READY").split(" ");
                for (int i = 1; i < ready.length; i++) {
                    addresses.add(DomainAddress.fromHex(ready[i]));
                }
            } catch (AssertionError | RuntimeException e) {
                child.kill();
                throw e;
            }
        }

        /** The next line starting with {@code prefix}; fails after {@link #DEADLINE}, on an ERROR line or on EOF. */
        String expect(String prefix) {
            return child.expect(prefix);
        }

        /** Kills the child at once (SIGKILL), waits for it to be gone and removes its shm files. */
        void kill() throws InterruptedException, IOException {
            child.kill();
        }

        @Override
        public void close() throws IOException, InterruptedException {
            child.close();
        }
    }
}
