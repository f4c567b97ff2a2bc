package dev.transferengine.kits.weights;

import dev.transferengine.api.InvalidRequestException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightPlannerTest {

    /** Every byte of every destination shard is written exactly once, and nothing outside the shards is. */
    @ParameterizedTest
    @CsvSource({"1,1", "2,3", "3,2", "4,4", "5,3"})
    void everyDestinationByteIsWrittenExactlyOnce(int sources, int destinations) {
        WeightSchedule s = WeightPlanner.plan(WeightShapes.mixed(), sources, destinations);
        for (int d = 0; d < destinations; d++) {
            int[] hits = new int[(int) s.destinationBufferBytes(d)];
            for (SliceWrite w : s.writesTo(d)) {
                for (int r = 0; r < w.rows(); r++) {
                    for (long i = 0; i < w.rowBytes(); i++) {
                        hits[(int) (w.dstOffset() + r * w.dstStrideBytes() + i)]++;
                    }
                }
            }
            boolean[] inShard = new boolean[hits.length];
            for (int p = 0; p < s.parameters().size(); p++) {
                long at = s.destinationOffset(d, p);
                if (at >= 0) {
                    ParameterMeta m = s.parameters().get(p);
                    long bytes = ShardBox.of(m, m.destination(), d, destinations).elements() * m.dtype().bytes();
                    for (long i = at; i < at + bytes; i++) {
                        inShard[(int) i] = true;
                    }
                }
            }
            for (int i = 0; i < hits.length; i++) {
                assertEquals(inShard[i] ? 1 : 0, hits[i], "destination " + d + " byte " + i);
            }
        }
    }

    @Test
    void rowsToColumnsBecomePagedWritesAndRowsToRowsSingleWrites() {
        WeightSchedule s = WeightPlanner.plan(WeightShapes.mixed(), 2, 3);
        List<SliceWrite> q = s.writesTo(1).stream().filter(w -> w.parameter() == 1).toList();
        assertEquals(2, q.size(), "q_proj: both source row halves hold part of every column shard");
        for (SliceWrite w : q) {
            assertFalse(w.isContiguous());
            assertEquals(32, w.rows());
            assertEquals(32 * 2, w.rowBytes(), "96 columns / 3 ranks, bf16");
            assertEquals(96 * 2, w.srcStrideBytes());
            assertEquals(32 * 2, w.dstStrideBytes());
        }
        assertTrue(s.writesTo(0).stream().filter(w -> w.parameter() == 2).allMatch(SliceWrite::isContiguous));
    }

    @Test
    void replicatedSourceIsSpreadOverTrainingRanksNotRankZero() {
        WeightSchedule s = WeightPlanner.plan(WeightShapes.mixed(), 3, 3);
        int lmHead = 5;
        for (int d = 0; d < 3; d++) {
            List<SliceWrite> w = s.writesTo(d).stream().filter(x -> x.parameter() == lmHead).toList();
            assertEquals(1, w.size());
            assertEquals((lmHead + d) % 3, w.get(0).sourceRank());
        }
    }

    @Test
    void immsPerStepFollowImmAccounting() {
        WeightSchedule s = WeightPlanner.plan(WeightShapes.mixed(), 2, 3);
        for (int d = 0; d < 3; d++) {
            long singles = s.writesTo(d).stream().filter(SliceWrite::isContiguous).count();
            long pages = s.writesTo(d).stream().filter(w -> !w.isContiguous()).mapToLong(SliceWrite::rows).sum();
            assertEquals(singles + pages, s.immsPerStep(d, 1));
            assertEquals(2 * singles + pages, s.immsPerStep(d, 2));
        }
    }

    @Test
    void badMetadataIsRejected() {
        assertThrows(InvalidRequestException.class, () -> ParameterMeta.of("b", DType.FP32, Placement.columns(),
                Placement.rows(), 10));
        assertThrows(InvalidRequestException.class, () -> ParameterMeta.of("z", DType.FP32, Placement.rows(),
                Placement.rows(), 4, 0));
        assertThrows(InvalidRequestException.class, () -> ParameterMeta.of("", DType.FP32, Placement.rows(),
                Placement.rows(), 4));
        assertThrows(InvalidRequestException.class, () -> new Placement.Shard(2));
        ParameterMeta a = ParameterMeta.of("a", DType.FP32, Placement.rows(), Placement.rows(), 4);
        assertThrows(InvalidRequestException.class, () -> WeightPlanner.plan(List.of(a, a), 1, 1));
        assertThrows(InvalidRequestException.class, () -> WeightPlanner.plan(List.of(), 1, 1));
        assertThrows(InvalidRequestException.class, () -> WeightPlanner.plan(List.of(a), 0, 1));
        WeightSchedule s = WeightPlanner.plan(List.of(a), 1, 1);
        assertThrows(InvalidRequestException.class, () -> s.tasks(1));
        assertThrows(InvalidRequestException.class, () -> s.destinationBufferBytes(-1));
    }
}
