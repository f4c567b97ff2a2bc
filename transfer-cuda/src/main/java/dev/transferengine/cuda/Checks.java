package dev.transferengine.cuda;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.cuda.internal.CudaLibrary;

/** Argument checks that run in Java before any native call, so bad arguments never reach the driver. */
final class Checks {
    private Checks() {
    }

    static long positive(long bytes, String what) {
        if (bytes <= 0) {
            throw new InvalidRequestException(what + " must be positive, got " + bytes);
        }
        return bytes;
    }

    /**
     * {@code [address, address + lengthBytes)} is non-empty and lies in the positive half of the address space
     * (where every user-space host and device address is), so the end cannot overflow.
     */
    static void addressRange(long address, long lengthBytes, String what) {
        positive(lengthBytes, what + " length");
        if (address <= 0 || address + lengthBytes < 0) {
            throw new InvalidRequestException(what + ": [0x" + Long.toHexString(address) + ", +" + lengthBytes
                    + ") is null or overflows the address space");
        }
    }

    /** {@code [offset, offset + length)} lies within {@code [0, capacity)}; overflow-safe. */
    static void within(long offset, long length, long capacity, String what) {
        if (offset < 0 || length < 0 || offset > capacity || length > capacity - offset) {
            throw new InvalidRequestException(what + ": offset " + offset + " + length " + length
                    + " is outside [0, " + capacity + ")");
        }
    }

    /** Rejects a negative ordinal (before the driver is even loaded). */
    static void ordinalNotNegative(int ordinal) {
        if (ordinal < 0) {
            throw new InvalidRequestException("device ordinal must not be negative, got " + ordinal);
        }
    }

    /** Requires CUDA, then checks the ordinal against the device count. */
    static void availableDevice(int ordinal) {
        ordinalNotNegative(ordinal);
        CudaLibrary.require();
        int count = CudaLibrary.deviceCount();
        if (ordinal >= count) {
            throw new InvalidRequestException("device ordinal " + ordinal + " does not exist: " + count
                    + " device(s) visible");
        }
    }
}
