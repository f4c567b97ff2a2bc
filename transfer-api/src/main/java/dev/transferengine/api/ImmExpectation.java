package dev.transferengine.api;

/**
 * A registered {@link TransferEngine#expectImms expectation}: its callback fires exactly once, when the
 * count is reached. Thread-safe.
 */
public interface ImmExpectation {
    /** The imm value. */
    int imm();

    /** The count that fires the callback. */
    long expected();

    /** Imms counted so far (capped at {@link #expected()}). */
    long counted();

    /** Whether the callback has fired. */
    boolean isReached();

    /**
     * Cancels the expectation if it has not fired; later imms of this value become plain imm events.
     *
     * @return true if this call cancelled it, false if it had already fired or been cancelled
     */
    boolean cancel();
}
