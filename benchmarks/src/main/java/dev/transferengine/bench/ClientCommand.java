package dev.transferengine.bench;

import dev.transferengine.api.Access;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code transfer-bench client}: writes to a {@code server} in another process, given the address and
 * descriptor the server printed. Per size: warm-up writes, then a {@link RowAnnouncement} SEND, then the timed
 * writes ({@link WriteWindow}: a window in flight, every write from offset 0 to offset 0 with the row's imm),
 * and prints the client's view (first submit to the last local completion); the server prints its own view.
 * Runs on the command's thread.
 */
@Command(name = "client", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Write to a transfer-bench server in another process (pass the address and descriptor it "
                + "printed); print bandwidth and write rate as this side sees them (local completions)."})
final class ClientCommand implements Callable<Integer> {

    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--address", required = true, paramLabel = "HEX", description = "The server's address line.")
    String address;

    @Option(names = "--descriptor", required = true, paramLabel = "HEX", description = "The server's descriptor line.")
    String descriptor;

    @Option(names = "--sizes", paramLabel = "LIST", defaultValue = "64,64K,1M,16M",
            description = "Write sizes, at most the server's --buffer (default: ${DEFAULT-VALUE}).")
    String sizes = "64,64K,1M,16M";

    @Option(names = "--window", paramLabel = "N", defaultValue = "64",
            description = "Writes in flight (default: ${DEFAULT-VALUE}).")
    int window = 64;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "200",
            description = "Untimed writes per size (default: ${DEFAULT-VALUE}).")
    int warmup = 200;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "3000",
            description = "Timed writes per size (default: ${DEFAULT-VALUE}); capped by --bytes-per-row, at least 16.")
    int iterations = 3000;

    @Option(names = "--bytes-per-row", paramLabel = "BYTES", defaultValue = "1G",
            description = "Bytes one size's timed writes move at most (default: ${DEFAULT-VALUE}).")
    String bytesPerRow = "1G";

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        TwoProcessModes.requireCrossProcess(engine.provider());
        DomainAddress server = DomainAddress.fromHex(address.trim());
        RemoteRegion destination = RemoteRegion.fromHex(descriptor.trim());
        List<Long> sizeList = ByteSize.parseList(sizes);
        long perRow = ByteSize.parse(bytesPerRow);
        long largest = sizeList.stream().mapToLong(Long::longValue).max().orElseThrow();
        if (window < 1 || warmup < 0 || iterations < 1 || perRow < 1) {
            throw new IllegalArgumentException("need --window >= 1, --warmup >= 0, --iterations >= 1, --bytes-per-row > 0");
        }
        if (largest > destination.lengthBytes()) {
            throw new IllegalArgumentException("--sizes goes up to " + ByteSize.format(largest) + " but the server's "
                    + "destination holds " + ByteSize.format(destination.lengthBytes()) + " (server --buffer)");
        }
        if (sizeList.size() >= RowAnnouncement.MAX_ROWS) {
            throw new IllegalArgumentException("at most " + (RowAnnouncement.MAX_ROWS - 1) + " sizes per session");
        }
        PrintWriter out = spec.commandLine().getOut();
        Duration timeout = engine.timeout();
        try (TransferEngine client = engine.builder("bench-client").build();
             Arena arena = Arena.ofShared()) {
            MemorySegment src = arena.allocate(largest, 4096);
            MemorySegment message = arena.allocate(RowAnnouncement.BYTES, 64);
            try (MemoryRegion srcRegion = client.register(src, Access.LOCAL);
                 MemoryRegion messageRegion = client.register(message, Access.LOCAL)) {
                out.printf(Locale.ROOT, "transfer-bench client: provider %s (engine provider \"%s\"), window %d, "
                        + "warm-up %d; Gbps and Mops/s from the first submit to the last local completion%n",
                        engine.provider().cliName(), client.providerName(), window, warmup);
                out.printf(Locale.ROOT, "%-3s %-9s %6s %9s %10s%n", "row", "size", "iters", "Gbps", "Mops/s");
                out.flush();
                for (int row = 0; row < sizeList.size(); row++) {
                    long size = sizeList.get(row);
                    int n = (int) Math.max(Math.min(iterations, SweepPlan.MIN_ITERATIONS), Math.min(iterations, perRow / size));
                    RowPattern.fill(src, size, row);
                    SingleWrite warm = SingleWrite.withImm(srcRegion, 0, size, destination, 0, RowAnnouncement.WARMUP_IMM);
                    new WriteWindow(client, warm, null, window, timeout).run(warmup);
                    announce(client, server, messageRegion, message, new RowAnnouncement(row, size, n), timeout);
                    SingleWrite timed = SingleWrite.withImm(srcRegion, 0, size, destination, 0, RowAnnouncement.immOf(row));
                    WriteWindow writes = new WriteWindow(client, timed, null, window, timeout);
                    long start = System.nanoTime();
                    writes.run(n);
                    RateSample s = new RateSample(size, n, Math.max(System.nanoTime() - start, 1) / 1e9);
                    out.printf(Locale.ROOT, "%-3d %-9s %6d %9.3f %10.4f%n", row, ByteSize.format(size), n, s.gbps(),
                            s.mops());
                    out.flush();
                }
                announce(client, server, messageRegion, message, RowAnnouncement.end(sizeList.size()), timeout);
            }
        }
        return 0;
    }

    /** Sends {@code a} and waits for the send to complete, so the message buffer may be reused. */
    private static void announce(TransferEngine client, DomainAddress server, MemoryRegion region, MemorySegment message,
                                 RowAnnouncement a, Duration timeout) {
        a.encode(message);
        try {
            client.send(server, region, 0, RowAnnouncement.BYTES).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new BenchFailure("announcing row " + a.row() + " to the server failed: " + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new BenchFailure("announcing row " + a.row() + " took longer than " + timeout.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BenchFailure("interrupted while announcing row " + a.row(), e);
        }
    }
}
