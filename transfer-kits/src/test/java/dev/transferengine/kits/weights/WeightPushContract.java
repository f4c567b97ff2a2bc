package dev.transferengine.kits.weights;

import dev.transferengine.api.Access;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The weight push on one provider: training ranks and inference ranks each get an engine of their own in this
 * JVM; every destination buffer is compared byte for byte with what the schedule says, and every receiver's imm
 * count with {@link WeightSchedule#immsPerStep}. Subclasses name the provider.
 */
abstract class WeightPushContract {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final int IMM = 0x3E1A_0001;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final Arena arena = Arena.ofShared();

    /** Skips the calling class when {@code provider} cannot run here (libfabric missing); CI installs libfabric. */
    static void assumeAvailable(String provider) {
        try (TransferEngine e = TransferEngine.builder().provider(provider).name("probe-" + provider).build()) {
            e.providerName();
        } catch (dev.transferengine.api.ProviderUnavailableException e) {
            org.junit.jupiter.api.Assumptions.abort(provider + " is not usable here: " + e.getMessage());
        }
    }

    /** A builder for one engine with one group of {@code nics} NICs on the provider under test. */
    abstract TransferEngine.Builder builder(int nics);

    /** NICs of each training rank's group. */
    int sourceNics() {
        return 2;
    }

    /** Engines and buffers of one test: S pushers, D receivers. */
    final class Cluster {
        final WeightSchedule schedule;
        final List<TransferEngine> sources = new ArrayList<>();
        final List<TransferEngine> destinations = new ArrayList<>();
        final List<MemoryRegion> weights = new ArrayList<>();
        final List<RemoteRegion> descriptors = new ArrayList<>();
        final List<WeightReceiver> receivers = new ArrayList<>();

        Cluster(WeightSchedule schedule) {
            this.schedule = schedule;
            for (int s = 0; s < schedule.sourceRanks(); s++) {
                sources.add(open(builder(sourceNics()).name("wsrc" + s)));
            }
            for (int d = 0; d < schedule.destinationRanks(); d++) {
                TransferEngine e = open(builder(1).name("wdst" + d));
                destinations.add(e);
                MemorySegment buffer = arena.allocate(schedule.destinationBufferBytes(d), 4096);
                buffer.fill((byte) 0x11);
                MemoryRegion r = e.register(buffer, Access.REMOTE_WRITE);
                weights.add(r);
                descriptors.add(RemoteRegion.decode(r.descriptor().encode()));
                receivers.add(new WeightReceiver(e, schedule, d, r, IMM, sourceNics()));
            }
        }

        WeightPusher pusher(int rank, long watermark, ShardPreparer preparer) {
            WeightPusher p = new WeightPusher(sources.get(rank), schedule, rank, descriptors, watermark, IMM, preparer,
                    WAIT);
            closeables.add(p);
            return p;
        }

        /** Pushes step by step from every training rank on threads of its own; returns each rank's report. */
        List<PushReport> pushAll(List<WeightPusher> pushers) throws Exception {
            List<PushReport> reports = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            Throwable[] errors = new Throwable[pushers.size()];
            PushReport[] out = new PushReport[pushers.size()];
            for (int i = 0; i < pushers.size(); i++) {
                int rank = i;
                Thread t = new Thread(() -> {
                    try {
                        out[rank] = pushers.get(rank).push();
                    } catch (Throwable e) {
                        errors[rank] = e;
                    }
                }, "push-" + i);
                t.start();
                threads.add(t);
            }
            for (Thread t : threads) {
                t.join(WAIT.toMillis());
                assertTrue(!t.isAlive(), t.getName() + " still pushing");
            }
            for (int i = 0; i < pushers.size(); i++) {
                if (errors[i] instanceof Exception e) {
                    throw e;
                }
                if (errors[i] instanceof Error e) {
                    throw e;
                }
                reports.add(out[i]);
            }
            return reports;
        }

        void assertLanded(long step) {
            for (int d = 0; d < schedule.destinationRanks(); d++) {
                WeightReceiver r = receivers.get(d);
                r.awaitStep(WAIT);
                assertEquals(r.immsPerStep() * (step + 1), r.immsArrived(), "imms at destination " + d);
                assertEquals(-1, SyntheticWeights.firstMismatch(schedule, d, weights.get(d).segment(), step),
                        "first wrong byte at destination " + d + ", step " + step);
            }
        }
    }

    private TransferEngine open(TransferEngine.Builder b) {
        TransferEngine e = b.transferTimeout(Duration.ofSeconds(15)).build();
        closeables.add(e);
        return e;
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        arena.close();
    }

    /** A preparer that produces the synthetic weights of the step: the stand-in for gather/quantise. */
    static final ShardPreparer SYNTHETIC = SyntheticWeights::fillShard;

    @Test
    void twoStepsLandEveryByteWhereTheScheduleSaysAndCountTheImms() throws Exception {
        Cluster c = new Cluster(WeightPlanner.plan(WeightShapes.mixed(), 2, 3));
        List<WeightPusher> pushers = List.of(c.pusher(0, 1 << 20, SYNTHETIC), c.pusher(1, 1 << 20, SYNTHETIC));
        for (long step = 0; step < 2; step++) {
            List<PushReport> reports = c.pushAll(pushers);
            for (int s = 0; s < 2; s++) {
                assertEquals(c.schedule.requestsPerStep(s), reports.get(s).requests());
                assertEquals(c.schedule.bytesPerStep(s), reports.get(s).bytes());
            }
            c.assertLanded(step);
        }
    }

    @Test
    void aWatermarkOfOneShardStillLandsEverythingAndNeverStagesMore() throws Exception {
        WeightSchedule schedule = WeightPlanner.plan(WeightShapes.mixed(), 3, 2);
        Cluster c = new Cluster(schedule);
        List<WeightPusher> pushers = new ArrayList<>();
        long[] watermarks = new long[3];
        for (int s = 0; s < 3; s++) {
            watermarks[s] = StagingRing.aligned(schedule.tasks(s).stream().mapToLong(ParameterTask::shardBytes).max()
                    .orElse(0));
            pushers.add(c.pusher(s, watermarks[s], SYNTHETIC));
        }
        List<PushReport> reports = c.pushAll(pushers);
        for (int s = 0; s < 3; s++) {
            assertTrue(reports.get(s).peakStagedBytes() <= watermarks[s], "rank " + s + " staged "
                    + reports.get(s).peakStagedBytes() + " > " + watermarks[s]);
        }
        c.assertLanded(0);
    }

    @Test
    void aFailingPreparationStopsThePushAndTheNextPushRecovers() throws Exception {
        Cluster c = new Cluster(WeightPlanner.plan(WeightShapes.mixed(), 1, 2));
        AtomicInteger calls = new AtomicInteger();
        IllegalStateException boom = new IllegalStateException("quantiser failed");
        WeightPusher p = c.pusher(0, 1 << 20, (task, staging, step) -> {
            if (step == 0 && calls.incrementAndGet() == 3) {
                throw boom;
            }
            SyntheticWeights.fillShard(task, staging, step);
        });
        assertSame(boom, assertThrows(IllegalStateException.class, p::push));
        // the step did not complete: its receivers time out instead of reading half-written weights as done
        assertThrows(TransferTimeoutException.class, () -> c.receivers.get(0).awaitStep(Duration.ofMillis(300)));
        long arrived0 = c.receivers.get(0).immsArrived();
        long arrived1 = c.receivers.get(1).immsArrived();
        assertTrue(arrived0 < c.receivers.get(0).immsPerStep() || arrived1 < c.receivers.get(1).immsPerStep());
        // a receiver that lost a step starts over with a fresh counter: drop the partial count
        for (int d = 0; d < 2; d++) {
            c.receivers.get(d).close();
            c.receivers.set(d, new WeightReceiver(c.destinations.get(d), c.schedule, d, c.weights.get(d), IMM,
                    sourceNics()));
        }
        c.pushAll(List.of(p));
        for (int d = 0; d < 2; d++) {
            c.receivers.get(d).awaitStep(WAIT);
            assertEquals(-1, SyntheticWeights.firstMismatch(c.schedule, d, c.weights.get(d).segment(), 1));
        }
    }

    @Test
    void aClosedDestinationFailsThePushWithATypedError() {
        Cluster c = new Cluster(WeightPlanner.plan(WeightShapes.mixed(), 1, 2));
        WeightPusher p = c.pusher(0, 1 << 20, SYNTHETIC);
        c.weights.get(1).close();
        TransferException e = assertThrows(TransferException.class, p::push);
        assertTrue(e.category() == ErrorCategory.REMOTE_ACCESS || e.category() == ErrorCategory.PROVIDER,
                "category " + e.category() + ": " + e.getMessage());
    }

    @Test
    void badConfigurationIsRejectedBeforeAnythingIsRegistered() {
        Cluster c = new Cluster(WeightPlanner.plan(WeightShapes.mixed(), 2, 2));
        TransferEngine e = c.sources.get(0);
        List<RemoteRegion> d = c.descriptors;
        assertThrows(InvalidRequestException.class, () -> new WeightPusher(e, c.schedule, 0, d.subList(0, 1), 1 << 20,
                IMM, SYNTHETIC, WAIT));
        assertThrows(InvalidRequestException.class, () -> new WeightPusher(e, c.schedule, 2, d, 1 << 20, IMM,
                SYNTHETIC, WAIT));
        assertThrows(InvalidRequestException.class, () -> new WeightPusher(e, c.schedule, 0, d, 64, IMM, SYNTHETIC,
                WAIT));
        RemoteRegion small = new RemoteRegion(d.get(1).baseAddress(), 16, d.get(1).nics());
        assertThrows(InvalidRequestException.class, () -> new WeightPusher(e, c.schedule, 0, List.of(d.get(0), small),
                1 << 20, IMM, SYNTHETIC, WAIT));
        MemoryRegion tiny = c.destinations.get(0).register(arena.allocate(64), Access.REMOTE_WRITE);
        closeables.add(tiny);
        assertThrows(InvalidRequestException.class, () -> new WeightReceiver(c.destinations.get(0), c.schedule, 0,
                tiny, IMM + 1, 1));
    }
}
