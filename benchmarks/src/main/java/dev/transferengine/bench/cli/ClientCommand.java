package dev.transferengine.bench.cli;

import dev.transferengine.api.Access;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.ReceiveSet;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.cases.RateSample;
import dev.transferengine.bench.cases.SweepPlan;
import dev.transferengine.bench.cases.WriteWindow;
import dev.transferengine.bench.process.MessageInbox;
import dev.transferengine.bench.process.RowAnnouncement;
import dev.transferengine.bench.process.RowPattern;
import dev.transferengine.bench.process.RowResult;
import dev.transferengine.bench.process.TwoProcessModes;
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

/**
 * {@code transfer-bench client}: writes to a {@code server} in another process, given the address and
 * descriptor the server printed. Per size: warm-up writes, a {@link RowAnnouncement} SEND, the timed writes
 * ({@link WriteWindow}: a window in flight, every write from offset 0 to offset 0 with the row's imm), then the
 * server's {@link RowResult}; prints both views. Runs on the command's thread.
 */
@Command(name = "client", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Write to a transfer-bench server in another process (pass the address and descriptor it "
                + "printed); print bandwidth and write rate as both sides saw them."})
public final class ClientCommand implements Callable<Integer> {

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

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "5000",
            description = "Untimed writes per size, also the JIT's warm-up (default: ${DEFAULT-VALUE}); capped by "
                    + "--bytes-per-row / 4.")
    int warmup = 5000;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "5000",
            description = "Timed writes per size (default: ${DEFAULT-VALUE}); capped by --bytes-per-row, at least 16.")
    int iterations = 5000;

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
        MessageInbox<RowResult> inbox = new MessageInbox<>(RowResult::decode);
        try (TransferEngine client = engine.builder("bench-client").build();
             Arena arena = Arena.ofShared()) {
            MemorySegment src = arena.allocate(largest, 4096);
            MemorySegment message = arena.allocate(RowAnnouncement.MAX_BYTES, 64);
            try (MemoryRegion srcRegion = client.register(src, Access.LOCAL);
                 MemoryRegion messageRegion = client.register(message, Access.LOCAL);
                 ReceiveSet results = client.postReceives(RowResult.BYTES, TwoProcessModes.RECEIVE_BUFFERS, inbox)) {
                out.printf(Locale.ROOT, "transfer-bench client: provider %s (engine provider \"%s\"), window %d%n",
                        engine.provider().cliName(), client.providerName(), window);
                out.println("client: first submit to last local completion; server: announcement to last imm");
                out.printf(Locale.ROOT, "%-3s %-9s %6s %6s %11s %13s %11s %13s  %s%n", "row", "size", "warmup", "iters",
                        "client Gbps", "client Mops/s", "server Gbps", "server Mops/s", "bytes");
                out.flush();
                for (int row = 0; row < sizeList.size(); row++) {
                    long size = sizeList.get(row);
                    int n = (int) Math.max(Math.min(iterations, SweepPlan.MIN_ITERATIONS), Math.min(iterations, perRow / size));
                    int warm = (int) Math.min(warmup, Math.max(Math.min(warmup, 1), perRow / 4 / size));
                    RowPattern.fill(src, size, row);
                    SingleWrite warmWrite = SingleWrite.withImm(srcRegion, 0, size, destination, 0, RowAnnouncement.WARMUP_IMM);
                    new WriteWindow(client, warmWrite, null, window, timeout).run(warm);
                    int length = new RowAnnouncement(row, size, n, client.mainAddress()).encode(message);
                    TwoProcessModes.sendAndWait(client, server, messageRegion, length, timeout, "row " + row + "'s announcement");
                    SingleWrite timed = SingleWrite.withImm(srcRegion, 0, size, destination, 0, RowAnnouncement.immOf(row));
                    WriteWindow writes = new WriteWindow(client, timed, null, window, timeout);
                    long start = System.nanoTime();
                    writes.run(n);
                    RateSample mine = new RateSample(size, n, Math.max(System.nanoTime() - start, 1) / 1e9);
                    RowResult result = inbox.next(timeout, "the server's result of row " + row).message();
                    if (result.row() != row) {
                        throw new BenchFailure("the server answered row " + result.row() + " when row " + row + " ended");
                    }
                    RateSample theirs = new RateSample(size, n, result.nanos() / 1e9);
                    out.printf(Locale.ROOT, "%-3d %-9s %6d %6d %11.3f %13.4f %11.3f %13.4f  %s%n", row,
                            ByteSize.format(size), warm, n, mine.gbps(), mine.mops(), theirs.gbps(), theirs.mops(),
                            result.verified() ? "verified" : "WRONG BYTE " + result.firstWrongByte());
                    out.flush();
                    if (!result.verified()) {
                        throw new BenchFailure("row " + row + ": the server found destination byte "
                                + result.firstWrongByte() + " wrong");
                    }
                }
                int length = RowAnnouncement.end(sizeList.size(), client.mainAddress()).encode(message);
                TwoProcessModes.sendAndWait(client, server, messageRegion, length, timeout, "the end announcement");
            }
        }
        return 0;
    }
}
