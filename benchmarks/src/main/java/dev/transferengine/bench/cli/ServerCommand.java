package dev.transferengine.bench.cli;

import dev.transferengine.api.Access;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.ReceiveSet;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferTimeoutException;
import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.cases.RateSample;
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
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code transfer-bench server}: registers a destination region, prints its engine's address and the region's
 * descriptor in hex (like fabric-debug), then serves one client: for every row the client announces (one SEND,
 * {@link RowAnnouncement}) it counts the row's imms, times them from the announcement's arrival to the last imm,
 * checks the bytes ({@link RowPattern}), prints a line and answers with a {@link RowResult}; the client's end
 * announcement ends the process. Runs on the command's thread; the receive handler only queues messages.
 */
@Command(name = "server", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Serve one transfer-bench client in another process: print this engine's address and a "
                + "destination descriptor, count the client's writes per row, check the bytes, print results."})
public final class ServerCommand implements Callable<Integer> {

    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--buffer", paramLabel = "BYTES", defaultValue = "64M",
            description = "Destination region size: the largest write a client may make (default: ${DEFAULT-VALUE}).")
    String buffer = "64M";

    @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "0",
            description = "Longest wait for the client's next announcement; 0 waits forever (default: ${DEFAULT-VALUE}).")
    int waitSeconds;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        TwoProcessModes.requireCrossProcess(engine.provider());
        long bytes = ByteSize.parse(buffer);
        if (bytes < 1 || waitSeconds < 0) {
            throw new IllegalArgumentException("--buffer must be positive and --wait >= 0");
        }
        PrintWriter out = spec.commandLine().getOut();
        MessageInbox<RowAnnouncement> inbox = new MessageInbox<>(RowAnnouncement::decode);
        try (TransferEngine server = engine.builder("bench-server").build();
             Arena arena = Arena.ofShared()) {
            MemorySegment dst = arena.allocate(bytes, 4096);
            MemorySegment reply = arena.allocate(RowResult.BYTES, 64);
            try (MemoryRegion region = server.register(dst, Access.REMOTE_WRITE);
                 MemoryRegion replyRegion = server.register(reply, Access.LOCAL)) {
                // Every row's counter exists before the client can write: imms and announcements are unordered.
                ImmCounter[] rows = new ImmCounter[RowAnnouncement.MAX_ROWS];
                for (int r = 0; r < rows.length; r++) {
                    rows[r] = server.immCounter(RowAnnouncement.immOf(r));
                }
                ImmCounter warmups = server.immCounter(RowAnnouncement.WARMUP_IMM);
                try (ReceiveSet receives = server.postReceives(RowAnnouncement.MAX_BYTES, TwoProcessModes.RECEIVE_BUFFERS,
                        inbox)) {
                    printBanner(out, server, region);
                    int served = 0;
                    Duration wait = waitSeconds == 0 ? null : Duration.ofSeconds(waitSeconds);
                    for (var a = inbox.next(wait, "row announcement"); !a.message().isEnd();
                         a = inbox.next(wait, "row announcement")) {
                        RowResult result = serveRow(out, a, rows, dst);
                        result.encode(reply);
                        TwoProcessModes.sendAndWait(server, a.message().replyTo(), replyRegion, RowResult.BYTES,
                                engine.timeout(), "the result of row " + result.row());
                        if (!result.verified()) {
                            throw new BenchFailure("row " + result.row() + ": destination byte " + result.firstWrongByte()
                                    + " is not what the client wrote");
                        }
                        served++;
                    }
                    out.printf(Locale.ROOT, "served %d row(s); %d warm-up imms; %d messages received%n", served,
                            warmups.arrived(), receives.received());
                    out.flush();
                }
            }
        }
        return 0;
    }

    private void printBanner(PrintWriter out, TransferEngine server, MemoryRegion region) {
        String address = server.mainAddress().toHex();
        String descriptor = region.descriptor().toHex();
        out.printf(Locale.ROOT, "transfer-bench server: provider %s (engine provider \"%s\"), destination %s%n",
                engine.provider().cliName(), server.providerName(), ByteSize.format(region.descriptor().lengthBytes()));
        out.println("address " + address);
        out.println("descriptor " + descriptor);
        out.printf(Locale.ROOT, "waiting for: transfer-bench client --provider %s --address %s --descriptor %s%n",
                engine.provider().cliName(), address, descriptor);
        out.flush();
    }

    /** Waits for the row's imms, checks its bytes, prints its line. */
    private RowResult serveRow(PrintWriter out, MessageInbox.Arrival<RowAnnouncement> arrival, ImmCounter[] rows,
                               MemorySegment dst) {
        RowAnnouncement row = arrival.message();
        if (row.size() > dst.byteSize()) {
            throw new BenchFailure("the client announced writes of " + ByteSize.format(row.size())
                    + ", larger than the destination (" + ByteSize.format(dst.byteSize()) + ")");
        }
        ImmCounter counter = rows[row.row()];
        try {
            counter.await(row.count(), engine.timeout());
        } catch (TransferTimeoutException e) {
            throw new BenchFailure("row " + row.row() + ": " + counter.arrived() + " of " + row.count()
                    + " imms arrived within " + engine.timeout().toSeconds() + " s", e);
        }
        long nanos = Math.max(System.nanoTime() - arrival.nanos(), 1);
        long wrong = RowPattern.firstMismatch(dst, row.size(), row.row());
        RateSample s = new RateSample(row.size(), row.count(), nanos / 1e9);
        out.printf(Locale.ROOT, "row %-3d %-9s %8d imms %10.6f s %9.3f Gbps %10.4f Mops/s  %s%n", row.row(),
                ByteSize.format(row.size()), row.count(), s.seconds(), s.gbps(), s.mops(),
                wrong < 0 ? "bytes verified" : "WRONG BYTE " + wrong);
        out.flush();
        return new RowResult(row.row(), nanos, wrong);
    }
}
