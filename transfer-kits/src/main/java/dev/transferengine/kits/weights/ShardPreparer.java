package dev.transferengine.kits.weights;

import java.lang.foreign.MemorySegment;

/**
 * The preparation stage of a push (in a trainer: H2D copy, FSDP {@code full_tensor()}, projection fusion, FP8
 * quantisation): writes the task's shard, row-major, {@code task.shardBytes()} bytes, into {@code staging}.
 * Called on the pushing thread, one task at a time, while the writes of earlier tasks are in flight. An exception
 * stops the push: {@link WeightPusher#push} waits for the writes already posted, then rethrows it.
 */
@FunctionalInterface
public interface ShardPreparer {
    void prepare(ParameterTask task, MemorySegment staging, long step);
}
