package dev.transferengine.kits.weights;

import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.TransferEngine;

import java.time.Duration;
import java.util.Objects;

/**
 * One inference rank's side of the weight push: its weight buffer (laid out as the {@link WeightSchedule} says)
 * and the imm counter that tells it a step's writes have all landed. It sends nothing; the count per step comes
 * from the static schedule ({@link WeightSchedule#immsPerStep}). The counter is free-running, so imms that arrive
 * before {@link #awaitStep} are not lost; the next step must not start before this rank finished reading the
 * previous one (the trainer's controller orders steps).
 *
 * <p>Thread-safe for one waiting thread. {@link #close()} removes the imm counter.
 */
public final class WeightReceiver implements AutoCloseable {
    private final TransferEngine engine;
    private final MemoryRegion weights;
    private final int imm;
    private final long immsPerStep;
    private final ImmCounter counter;

    /**
     * @param senderNics NICs of every source rank's engine group (a contiguous slice is sharded over all of them)
     * @throws InvalidRequestException for a rank out of range or a region smaller than the rank's buffer
     */
    public WeightReceiver(TransferEngine engine, WeightSchedule schedule, int rank, MemoryRegion weights, int imm,
                          int senderNics) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.weights = Objects.requireNonNull(weights, "weights");
        if (weights.lengthBytes() < schedule.destinationBufferBytes(rank)) {
            throw new InvalidRequestException("destination rank " + rank + " needs " + schedule.destinationBufferBytes(rank)
                    + " bytes, the region has " + weights.lengthBytes());
        }
        this.imm = imm;
        this.immsPerStep = schedule.immsPerStep(rank, senderNics);
        this.counter = engine.immCounter(imm);
    }

    /** Imms one step delivers to this rank. */
    public long immsPerStep() {
        return immsPerStep;
    }

    /** Imms counted so far, over all steps. */
    public long immsArrived() {
        return counter.arrived();
    }

    /**
     * Waits until one more step's writes have all landed, then makes them visible ({@link MemoryRegion#flush}, a
     * no-op for host memory).
     *
     * @throws dev.transferengine.api.TransferTimeoutException when the imms do not all arrive in time
     */
    public void awaitStep(Duration timeout) {
        counter.await(immsPerStep, timeout);
        weights.flush(0, weights.lengthBytes(), timeout);
    }

    /** The weight buffer. */
    public MemoryRegion weights() {
        return weights;
    }

    @Override
    public void close() {
        engine.removeImmCounter(imm);
    }
}
