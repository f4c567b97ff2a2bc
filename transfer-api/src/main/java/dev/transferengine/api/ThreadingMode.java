package dev.transferengine.api;

/**
 * Which thread drives a group's duty cycle (taking requests, posting writes, polling completions). Aeron's media
 * driver is the model. Whatever the mode, exactly one thread at a time touches a group's NICs: providers rely on it.
 */
public enum ThreadingMode {
    /**
     * One worker thread per group, started by the engine and idling with the builder's {@link IdleStrategy}. The
     * default: callers hand requests to it through a lock-free queue and never touch a NIC.
     */
    DEDICATED,
    /**
     * No worker thread: the application drives each group with {@link TransferEngine#invoker(int)}, from a thread of
     * its choice, so a latency-critical caller posts and polls with no thread hop. Nothing moves (not even incoming
     * imms) while nobody invokes the group; registration and close run the duty cycle on the calling thread.
     */
    INVOKER
}
