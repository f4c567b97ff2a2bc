package dev.transferengine.bench.process;

import dev.transferengine.api.ReceiveHandler;
import dev.transferengine.bench.BenchFailure;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The receive handler of {@code server} and {@code client}: decodes each SEND on the callback executor, stamps
 * its arrival time and queues it for the command's thread. A message that does not decode is queued as such and
 * fails the {@link #next} that meets it. Thread-safe.
 *
 * @param <T> what the messages decode to
 */
public final class MessageInbox<T> implements ReceiveHandler {
    /** A decoded message and the {@link System#nanoTime()} of its arrival. */
    public record Arrival<T>(T message, long nanos) {
    }

    private record Entry<T>(T message, long nanos, String garbage) {
    }

    private final Function<MemorySegment, T> decoder;
    private final BlockingQueue<Entry<T>> queue = new LinkedBlockingQueue<>();

    public MessageInbox(Function<MemorySegment, T> decoder) {
        this.decoder = decoder;
    }

    @Override
    public void onMessage(MemorySegment message) {
        long now = System.nanoTime();
        try {
            queue.add(new Entry<>(decoder.apply(message), now, null));
        } catch (IllegalArgumentException e) {
            queue.add(new Entry<>(null, now, e.getMessage()));
        }
    }

    /**
     * The next message, waiting at most {@code wait} (null: forever).
     *
     * @throws BenchFailure when none came in time or the next one did not decode
     */
    public Arrival<T> next(Duration wait, String expected) {
        Entry<T> e;
        try {
            e = wait == null ? queue.take() : queue.poll(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new BenchFailure("interrupted while waiting for " + expected, ie);
        }
        if (e == null) {
            throw new BenchFailure("no " + expected + " within " + wait.toSeconds() + " s");
        }
        if (e.garbage() != null) {
            throw new BenchFailure("received a message that is not " + expected + ": " + e.garbage());
        }
        return new Arrival<>(e.message(), e.nanos());
    }
}
