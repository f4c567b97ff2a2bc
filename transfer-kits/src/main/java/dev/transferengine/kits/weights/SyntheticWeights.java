package dev.transferengine.kits.weights;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Deterministic weight bytes for demos and tests: byte {@code g} of parameter {@code p}'s full row-major tensor
 * at step {@code step} is a hash of {@code (p, step, g / 8)}, shifted by {@code g % 8}. Any misplaced, missing or
 * stale byte shows up when a destination buffer is compared with what the schedule says it holds. Stateless.
 */
public final class SyntheticWeights {
    private SyntheticWeights() {
    }

    /** Byte {@code g} of parameter {@code parameter} at {@code step}. */
    public static byte byteAt(int parameter, long step, long g) {
        return (byte) (mix(parameter, step, g >>> 3) >>> ((g & 7) * 8));
    }

    private static long mix(int parameter, long step, long word) {
        long z = word * 0x9E3779B97F4A7C15L + parameter * 0xBF58476D1CE4E5B9L + step * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Fills {@code out} with the task's shard at {@code step}: what a preparer produces (row-major shard). */
    public static void fillShard(ParameterTask task, MemorySegment out, long step) {
        fillBox(task.parameter(), task.meta(), task.shardRow0(), task.shardRows(), task.shardCol0(),
                task.shardColumns(), out, step);
    }

    /** Fills source rank {@code rank}'s buffer (its shards in the schedule's layout) with step {@code step}'s bytes. */
    public static void fillSource(WeightSchedule schedule, int rank, MemorySegment buffer, long step) {
        for (int p = 0; p < schedule.parameters().size(); p++) {
            long at = schedule.sourceOffset(rank, p);
            if (at < 0) {
                continue;
            }
            ParameterMeta m = schedule.parameters().get(p);
            ShardBox b = ShardBox.of(m, m.source(), rank, schedule.sourceRanks());
            fillBox(p, m, b.row0(), b.rows(), b.col0(), b.columns(), buffer.asSlice(at), step);
        }
    }

    /**
     * Compares destination rank {@code rank}'s buffer with what the schedule says it holds at {@code step}.
     *
     * @return -1 if every byte of every shard matches, else the buffer offset of the first wrong byte
     */
    public static long firstMismatch(WeightSchedule schedule, int rank, MemorySegment buffer, long step) {
        for (int p = 0; p < schedule.parameters().size(); p++) {
            long at = schedule.destinationOffset(rank, p);
            if (at < 0) {
                continue;
            }
            ParameterMeta m = schedule.parameters().get(p);
            ShardBox b = ShardBox.of(m, m.destination(), rank, schedule.destinationRanks());
            int e = m.dtype().bytes();
            long rowBytes = b.columns() * e;
            for (long r = 0; r < b.rows(); r++) {
                long g0 = ((b.row0() + r) * m.columns() + b.col0()) * e;
                long local = at + r * rowBytes;
                long word = mix(p, step, g0 >>> 3);
                for (long i = 0; i < rowBytes; i++) {
                    long g = g0 + i;
                    if ((g & 7) == 0) {
                        word = mix(p, step, g >>> 3);
                    }
                    if (buffer.get(ValueLayout.JAVA_BYTE, local + i) != (byte) (word >>> ((g & 7) * 8))) {
                        return local + i;
                    }
                }
            }
        }
        return -1;
    }

    private static void fillBox(int parameter, ParameterMeta m, long row0, long rows, long col0, long columns,
                                MemorySegment out, long step) {
        int e = m.dtype().bytes();
        long rowBytes = columns * e;
        for (long r = 0; r < rows; r++) {
            long g0 = ((row0 + r) * m.columns() + col0) * e;
            long local = r * rowBytes;
            long word = mix(parameter, step, g0 >>> 3);
            for (long i = 0; i < rowBytes; i++) {
                long g = g0 + i;
                if ((g & 7) == 0) {
                    word = mix(parameter, step, g >>> 3);
                }
                out.set(ValueLayout.JAVA_BYTE, local + i, (byte) (word >>> ((g & 7) * 8)));
            }
        }
    }
}
