package dev.transferengine.core;

/**
 * The worker's "may be parked" flag, alone on its cache line(s): every submitting thread reads it
 * ({@link WorkerIdleStrategy#wakeUp}), so nothing the worker writes per cycle may share its line, or each submit on
 * another core pays a cache miss. Padding by class layout (superclass fields are laid out first), as Agrona does;
 * 64 bytes each side, enough for 64-byte lines and adjacent-line prefetch pairs on most x86 and ARM parts.
 */
final class ParkingFlag extends ParkingFlagValue {
    @SuppressWarnings("unused")
    private long p11, p12, p13, p14, p15, p16, p17, p18;

    boolean get() {
        return parking;
    }

    void set(boolean value) {
        parking = value;
    }
}

/** Padding before the flag. */
abstract class ParkingFlagPad {
    @SuppressWarnings("unused")
    private long p01, p02, p03, p04, p05, p06, p07, p08;
}

/** The flag itself. */
abstract class ParkingFlagValue extends ParkingFlagPad {
    volatile boolean parking;
}
