package dev.transferengine.kits.moe;

/**
 * Where one rank's last round spent its time, in nanoseconds.
 *
 * @param dispatchNanos  dispatch: packing, route exchange, writes, until every token for this rank landed
 * @param routeWaitNanos part of dispatch spent waiting for the other ranks' counts
 * @param combineNanos   combine: packing outputs, writes, until every output for this rank landed (barrier excluded)
 * @param barrierNanos   the closing barrier
 * @param requests       submit calls of the round
 */
public record RoundTimes(long dispatchNanos, long routeWaitNanos, long combineNanos, long barrierNanos, int requests) {
}
