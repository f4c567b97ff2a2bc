package dev.transferengine.api;

import java.time.Duration;

/**
 * A free-running count of the immediates with one value that arrived at this engine (on any NIC of
 * any group). {@link #await(long, Duration)} waits for {@code n} more than all earlier awaits took, and is
 * correct whether the imms arrived before or after the call: the receiver may obtain the counter
 * after telling the sender to go.
 *
 * <p>Obtained from {@link TransferEngine#immCounter(int)}; thread-safe; allocation-free.
 */
public final class ImmCounter {
    private final int imm;
    private final CountAwait arrived = new CountAwait();

    /** Created by the engine ({@link TransferEngine#immCounter(int)}); applications cannot forge one. */
    ImmCounter(int imm) {
        this.imm = imm;
    }

    /** The immediate value counted. */
    public int imm() {
        return imm;
    }

    /** Imms counted since the counter was created. */
    public long arrived() {
        return arrived.count();
    }

    /** Imms still to be taken by awaits: {@code arrived - awaited}, negative while a wait is pending. */
    public long balance() {
        return arrived.count() - arrived.reserved();
    }

    /**
     * Waits for {@code n} more imms than earlier awaits took.
     *
     * @throws TransferTimeoutException when the deadline passes first; the reservation is returned
     */
    public void await(long n, Duration timeout) {
        long nanos = CountAwait.checkWait(n, timeout);
        if (!arrived.await(n, nanos)) {
            throw new TransferTimeoutException("timed out after " + timeout + " waiting for " + n + " imms of 0x"
                    + Integer.toHexString(imm) + " (balance " + balance() + ")");
        }
    }

    /**
     * {@link #await(long, Duration)} for an engine built with {@link ThreadingMode#INVOKER}: the calling thread
     * runs {@code invoker}'s duty cycle (which polls the NICs the imms arrive on) instead of parking.
     *
     * @throws TransferTimeoutException when the deadline passes first; the reservation is returned
     */
    public void await(long n, Duration timeout, GroupInvoker invoker) {
        long nanos = CountAwait.checkWait(n, timeout);
        if (invoker == null) {
            throw new InvalidRequestException("invoker must not be null");
        }
        if (!arrived.await(n, nanos, invoker)) {
            throw new TransferTimeoutException("timed out after " + timeout + " waiting for " + n + " imms of 0x"
                    + Integer.toHexString(imm) + " while invoking group " + invoker.group() + " (balance "
                    + balance() + ")");
        }
    }

    /** Adds {@code count} arrivals. The engine's, through {@code CounterAccess}: callers cannot forge counts. */
    void add(long count) {
        arrived.add(count);
    }
}
