package dev.transferengine.verbs.internal;

/**
 * Send work requests outstanding across all send queues of one domain, bounded so their completions (one
 * each at worst: flushes complete every request) can never overflow the domain's completion queue, which also
 * holds the receive completions. Single-threaded.
 */
final class SendBudget {
    private final int limit;
    private int outstanding;

    public SendBudget(int limit) {
        this.limit = limit;
    }

    /** Whether one more request may be appended. */
    public boolean available() {
        return outstanding < limit;
    }

    void acquire() {
        outstanding++;
    }

    void release(int n) {
        outstanding -= n;
    }

    public int outstanding() {
        return outstanding;
    }
}
