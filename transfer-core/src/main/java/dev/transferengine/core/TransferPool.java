package dev.transferengine.core;

/**
 * The worker's pool of {@link PendingTransfer}s, plus the intrusive list of those in flight ordered by
 * deadline (transfer timeouts are equal for all requests, so submission order is deadline order and
 * expiry only looks at the head). Grows by doubling up to {@link #MAX_SLOTS}; steady state allocates
 * nothing. Single-threaded (the worker).
 */
final class TransferPool {
    static final int MAX_SLOTS = 1 << 20;

    private PendingTransfer[] slots;
    private int[] free;
    private int freeCount;
    private PendingTransfer head;
    private PendingTransfer tail;
    private int inFlight;

    TransferPool(int initial) {
        slots = new PendingTransfer[initial];
        free = new int[initial];
        for (int i = 0; i < initial; i++) {
            slots[i] = new PendingTransfer(i);
            free[i] = initial - 1 - i;
        }
        freeCount = initial;
    }

    /** A cleared transfer appended to the in-flight list, or null when the pool is at its maximum. */
    PendingTransfer acquire(long deadlineNanos) {
        if (freeCount == 0 && !grow()) {
            return null;
        }
        PendingTransfer p = slots[free[--freeCount]];
        p.deadlineNanos = deadlineNanos;
        p.inFlight = true;
        p.prev = tail;
        if (tail == null) {
            head = p;
        } else {
            tail.next = p;
        }
        tail = p;
        inFlight++;
        return p;
    }

    /** Unlinks and recycles {@code p}; its generation changes so stale completions miss it. */
    void release(PendingTransfer p) {
        if (!p.inFlight) {
            return;
        }
        if (p.prev == null) {
            head = p.next;
        } else {
            p.prev.next = p.next;
        }
        if (p.next == null) {
            tail = p.prev;
        } else {
            p.next.prev = p.prev;
        }
        inFlight--;
        p.clear();
        free[freeCount++] = p.slot;
    }

    /** The transfer a provider context names, or null when the context is stale. */
    PendingTransfer byContext(long context) {
        int slot = PendingTransfer.slotOf(context);
        if (slot < 0 || slot >= slots.length) {
            return null;
        }
        PendingTransfer p = slots[slot];
        return p.inFlight && (p.generation & 0x3fff_ffff) == PendingTransfer.generationOf(context) ? p : null;
    }

    /** The oldest in-flight transfer (earliest deadline), or null. */
    PendingTransfer oldest() {
        return head;
    }

    int inFlight() {
        return inFlight;
    }

    private boolean grow() {
        int n = slots.length;
        if (n >= MAX_SLOTS) {
            return false;
        }
        int m = Math.min(MAX_SLOTS, n * 2);
        PendingTransfer[] s = java.util.Arrays.copyOf(slots, m);
        int[] f = new int[m];
        for (int i = n; i < m; i++) {
            s[i] = new PendingTransfer(i);
        }
        System.arraycopy(free, 0, f, 0, freeCount);
        for (int i = m - 1; i >= n; i--) {
            f[freeCount++] = i;
        }
        slots = s;
        free = f;
        return true;
    }
}
