package dev.transferengine.efa.internal;

import java.nio.file.Path;

/**
 * Tests: takes and reads the spin lock of an shm endpoint's region, to put a process in the state of one killed inside
 * libfabric while holding it ({@link ShmLockSentinel}).
 */
public final class ShmLocks {
    private ShmLocks() {
    }

    /**
     * Takes the lock of the shm endpoint at {@code address} (its raw bytes) and raises its signal; false when the
     * region cannot be mapped or the lock did not come free within 5 s.
     */
    public static boolean take(byte[] address) {
        try (SmrRegion r = open(address)) {
            if (r == null) {
                return false;
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < deadline) {
                if (r.tryTakeLock()) {
                    return true;
                }
                Thread.onSpinWait();
            }
            return false;
        }
    }

    /** Whether the lock of the endpoint at {@code address} is taken now; null when its region cannot be mapped. */
    public static Boolean held(byte[] address) {
        try (SmrRegion r = open(address)) {
            return r == null ? null : r.lockHeld();
        }
    }

    private static SmrRegion open(byte[] address) {
        Path file = RetiredEndpoints.shmFileOf(address);
        return file == null ? null : SmrRegion.open(file, PeerProcesses.leadingPid(file.getFileName().toString(), 0));
    }
}
