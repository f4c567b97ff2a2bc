package dev.transferengine.kits.weights;

import dev.transferengine.api.Access;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.testing.ChildJvm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One inference rank in a child JVM, for the two-process test. The child ({@link #main}) computes the schedule
 * from the same metadata, registers its weight buffer, prints {@code READY region=<hex>}, then answers
 * {@code AWAIT <step>} with {@code LANDED imms=<n> mismatch=<offset or -1>} (or {@code TIMEOUT}) and ends on
 * {@code QUIT} or end of input. The parent side ({@link #start}) talks to it over stdin/stdout with a deadline on
 * every answer.
 */
final class WeightChildRank implements AutoCloseable {
    static final Duration DEADLINE = Duration.ofSeconds(60);

    private final ChildJvm child;
    final RemoteRegion region;

    private WeightChildRank(ChildJvm child) {
        this.child = child;
        this.region = RemoteRegion.fromHex(ChildJvm.field(child.expect("READY"), "region"));
    }

    /** Starts rank {@code rank} of {@code destinations} for {@code sources} training ranks of {@code senderNics}. */
    static WeightChildRank start(String provider, int sources, int destinations, int rank, int senderNics)
            throws IOException, InterruptedException {
        ChildJvm child = ChildJvm.builder(WeightChildRank.class).jvmArgs("-Xmx128m")
                .args(provider, Integer.toString(sources), Integer.toString(destinations), Integer.toString(rank),
                        Integer.toString(senderNics))
                .env("IPATH_NO_BACKTRACE", "1").quitLine("QUIT").deadline(DEADLINE).start();
        try {
            return new WeightChildRank(child);
        } catch (AssertionError e) {
            child.kill();
            throw e;
        }
    }

    /** Asks the child to wait for one step and verify it; returns the answer line. */
    String await(long step) {
        return child.ask("AWAIT " + step, "LANDED", "TIMEOUT");
    }

    void kill() throws InterruptedException, IOException {
        child.kill();
    }

    @Override
    public void close() throws Exception {
        child.close();
    }

    /** The child: {@code provider sources destinations rank senderNics}. */
    public static void main(String[] args) throws IOException {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.US_ASCII);
        int sources = Integer.parseInt(args[1]);
        int destinations = Integer.parseInt(args[2]);
        int rank = Integer.parseInt(args[3]);
        int senderNics = Integer.parseInt(args[4]);
        WeightSchedule schedule = WeightPlanner.plan(WeightShapes.mixed(), sources, destinations);
        try (TransferEngine engine = TransferEngine.builder().provider(args[0]).name("wchild").build();
             Arena arena = Arena.ofShared()) {
            MemoryRegion weights = engine.register(arena.allocate(schedule.destinationBufferBytes(rank), 4096),
                    Access.REMOTE_WRITE);
            WeightReceiver receiver = new WeightReceiver(engine, schedule, rank, weights, WeightPushContract.IMM,
                    senderNics);
            out.println("READY region=" + weights.descriptor().toHex());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
            for (String line = in.readLine(); line != null && !line.equals("QUIT"); line = in.readLine()) {
                if (line.startsWith("AWAIT ")) {
                    long step = Long.parseLong(line.substring(6).trim());
                    try {
                        receiver.awaitStep(Duration.ofSeconds(30));
                    } catch (dev.transferengine.api.TransferTimeoutException e) {
                        out.println("TIMEOUT imms=" + receiver.immsArrived());
                        continue;
                    }
                    out.println("LANDED imms=" + receiver.immsArrived() + " mismatch="
                            + SyntheticWeights.firstMismatch(schedule, rank, weights.segment(), step));
                }
            }
        } catch (RuntimeException e) {
            out.println("ERROR " + e);
            throw e;
        }
    }
}
