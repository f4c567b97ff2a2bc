package dev.transferengine.bench;

import dev.transferengine.api.Access;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.ReceiveSet;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferTimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code transfer-bench server}: registers a destination region, prints its engine's address and the region's
 * descriptor in hex (like fabric-debug), then serves one client: for every row the client announces (one SEND,
 * {@link RowAnnouncement}) it counts the row's imms, times them from the announcement's arrival to the last imm,
 * checks the bytes ({@link RowPattern}) and prints a line; the client's end announcement ends the process.
 * Runs on the command's thread; the receive handler only queues announcements.
 */
@Command(name = "server", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Serve one transfer-bench client in another process: print this engine's address and a "
                + "destination descriptor, count the client's writes per row, check the bytes, print results."})
final class ServerCommand implements Callable<Integer> {
    private static final int RECEIVE_BUFFER_BYTES = 64;
    private static final int RECEIVE_BUFFERS = 16;

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

    /** A received announcement and when it arrived, or a message that was not one. */
    private record Arrival(RowAnnouncement announcement, long nanos, String garbage) {
    }

    @Override
    public Integer call() throws InterruptedException {
        TwoProcessModes.requireCrossProcess(engine.provider());
        long bytes = ByteSize.parse(buffer);
        if (bytes < 1 || waitSeconds < 0) {
            throw new IllegalArgumentException("--buffer must be positive and --wait >= 0");
        }
        PrintWriter out = spec.commandLine().getOut();
        BlockingQueue<Arrival> inbox = new LinkedBlockingQueue<>();
        try (TransferEngine server = engine.builder("bench-server").build();
             Arena arena = Arena.ofShared()) {
            MemorySegment dst = arena.allocate(bytes, 4096);
            try (MemoryRegion region = server.register(dst, Access.REMOTE_WRITE)) {
                // Every row's counter exists before the client can write: imms and announcements are unordered.
                ImmCounter[] rows = new ImmCounter[RowAnnouncement.MAX_ROWS];
                for (int r = 0; r < rows.length; r++) {
                    rows[r] = server.immCounter(RowAnnouncement.immOf(r));
                }
                ImmCounter warmups = server.immCounter(RowAnnouncement.WARMUP_IMM);
                try (ReceiveSet receives = server.postReceives(RECEIVE_BUFFER_BYTES, RECEIVE_BUFFERS,
                        message -> inbox.add(arrival(message)))) {
                    printBanner(out, server, region);
                    int served = serve(out, inbox, rows, dst);
                    out.printf(Locale.ROOT, "served %d row(s); %d warm-up imms; %d announcements received%n", served,
                            warmups.arrived(), receives.received());
                    out.flush();
                }
            }
        }
        return 0;
    }

    private static Arrival arrival(MemorySegment message) {
        long now = System.nanoTime();
        try {
            return new Arrival(RowAnnouncement.decode(message), now, null);
        } catch (IllegalArgumentException e) {
            return new Arrival(null, now, e.getMessage());
        }
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

    /** Serves announcements until the end one; returns the number of rows served. */
    private int serve(PrintWriter out, BlockingQueue<Arrival> inbox, ImmCounter[] rows, MemorySegment dst)
            throws InterruptedException {
        int served = 0;
        while (true) {
            Arrival a = waitSeconds == 0 ? inbox.take() : inbox.poll(waitSeconds, TimeUnit.SECONDS);
            if (a == null) {
                throw new BenchFailure("no announcement from the client within " + waitSeconds + " s");
            }
            if (a.garbage() != null) {
                throw new BenchFailure("received a message that is not a row announcement: " + a.garbage());
            }
            RowAnnouncement row = a.announcement();
            if (row.isEnd()) {
                return served;
            }
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
            double seconds = Math.max(System.nanoTime() - a.nanos(), 1) / 1e9;
            long bad = RowPattern.firstMismatch(dst, row.size(), row.row());
            if (bad >= 0) {
                throw new BenchFailure("row " + row.row() + ": destination byte " + bad + " is not what the client wrote");
            }
            RateSample s = new RateSample(row.size(), row.count(), seconds);
            out.printf(Locale.ROOT, "row %-3d %-9s %8d imms %10.6f s %9.3f Gbps %10.4f Mops/s  bytes verified%n",
                    row.row(), ByteSize.format(row.size()), row.count(), seconds, s.gbps(), s.mops());
            out.flush();
            served++;
        }
    }
}
