package dev.transferengine.kits.weights;

import dev.transferengine.api.Access;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.testing.ChildJvm;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Two training ranks in this JVM push over tcp into two inference ranks: rank 0 in this JVM, rank 1 in a child
 * JVM ({@link WeightChildRank}) that verifies its own bytes and imm count. Then the child is killed, and the next
 * push fails with a typed error instead of hanging.
 */
class WeightPushTwoProcessTest {
    private static final int SOURCES = 2;
    private static final int DESTINATIONS = 2;

    @BeforeAll
    static void libfabricPresent() {
        WeightPushContract.assumeAvailable("tcp");
    }

    @Test
    void aChildJvmRankReceivesEveryByteAndAKilledOneFailsThePush() throws Exception {
        WeightSchedule schedule = WeightPlanner.plan(WeightShapes.mixed(), SOURCES, DESTINATIONS);
        try (WeightChildRank child = WeightChildRank.start("tcp", SOURCES, DESTINATIONS, 1, 1);
             TransferEngine dst0 = TransferEngine.builder().provider("tcp").name("wdst0").build();
             TransferEngine src0 = tcp("wsrc0");
             TransferEngine src1 = tcp("wsrc1");
             Arena arena = Arena.ofShared()) {
            MemoryRegion local = dst0.register(arena.allocate(schedule.destinationBufferBytes(0), 4096),
                    Access.REMOTE_WRITE);
            WeightReceiver receiver0 = new WeightReceiver(dst0, schedule, 0, local, WeightPushContract.IMM, 1);
            List<RemoteRegion> destinations = List.of(local.descriptor(), child.region);
            try (WeightPusher p0 = pusher(src0, schedule, 0, destinations);
                 WeightPusher p1 = pusher(src1, schedule, 1, destinations)) {
                Thread t = Thread.ofPlatform().start(p1::push);
                p0.push();
                t.join(WeightChildRank.DEADLINE.toMillis());
                receiver0.awaitStep(Duration.ofSeconds(30));
                assertEquals(-1, SyntheticWeights.firstMismatch(schedule, 0, local.segment(), 0));
                String answer = child.await(0);
                assertEquals("-1", ChildJvm.field(answer, "mismatch"), answer);
                assertEquals(schedule.immsPerStep(1, 1), Long.parseLong(ChildJvm.field(answer, "imms")), answer);

                child.kill();
                assertThrows(TransferException.class, p0::push, "a push to a dead rank must fail, not hang");
            }
        }
    }

    private static TransferEngine tcp(String name) {
        return TransferEngine.builder().provider("tcp").name(name).transferTimeout(Duration.ofSeconds(10)).build();
    }

    private static WeightPusher pusher(TransferEngine e, WeightSchedule s, int rank, List<RemoteRegion> d) {
        return new WeightPusher(e, s, rank, d, 1 << 20, WeightPushContract.IMM, SyntheticWeights::fillShard,
                Duration.ofSeconds(30));
    }
}
