package dev.transferengine.bench.cases;

import dev.transferengine.api.GroupInvoker;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferRequest;
import dev.transferengine.api.TransferTimeoutException;
import dev.transferengine.bench.BenchFailure;

import java.time.Duration;

/**
 * Submits one request over and over with a window, the way the C baseline posts: whenever fewer than
 * {@code window} submissions await their local completion, submit more (the whole free part of the window at
 * once); otherwise wait for the next completion. Each {@link #run} uses a fresh {@link TransferCounter} and
 * returns once all its requests completed locally and, when the target's {@link ImmCounter} is in this process,
 * once it counted one imm per request. Used by one thread; {@link #run} allocates its counter and nothing per
 * request.
 */
public final class WriteWindow {
    private final TransferEngine writer;
    private final TransferRequest request;
    private final ImmCounter targetImms;
    private final int window;
    private final Duration timeout;
    private final GroupInvoker driver;

    /**
     * @param targetImms the target's counter of the request's imm, or null when the target is another process
     */
    public WriteWindow(TransferEngine writer, TransferRequest request, ImmCounter targetImms, int window,
                       Duration timeout) {
        this(writer, request, targetImms, window, timeout, null);
    }

    /**
     * @param driver the writer's group invoker when it runs in {@link dev.transferengine.api.ThreadingMode#INVOKER}
     *               mode: this thread then drives it while it waits for completions; null for a dedicated worker
     */
    WriteWindow(TransferEngine writer, TransferRequest request, ImmCounter targetImms, int window, Duration timeout,
                GroupInvoker driver) {
        this.writer = writer;
        this.request = request;
        this.targetImms = targetImms;
        this.window = window;
        this.timeout = timeout;
        this.driver = driver;
    }

    /** Submits {@code count} requests and waits for all of them; throws {@link BenchFailure} if one failed. */
    public void run(long count) {
        if (count == 0) {
            return;
        }
        TransferCounter done = new TransferCounter();
        long awaited = 0;   // completions reserved by our awaits (TransferCounter.await is relative)
        long posted = 0;
        while (posted < count) {
            long room = window - (posted - done.completed());
            if (room <= 0) {
                awaited = awaitCompleted(done, awaited, posted - window + 1);
                continue;
            }
            for (; room > 0 && posted < count; room--, posted++) {
                writer.submit(request, done);
            }
        }
        awaitCompleted(done, awaited, count);
        if (targetImms != null) {
            try {
                targetImms.await(count, timeout);
            } catch (TransferTimeoutException e) {
                throw new BenchFailure("the target counted " + targetImms.arrived() + " imms in all, " + count
                        + " more expected within " + timeout.toSeconds() + " s", e);
            }
        }
        WindowCompletion.throwIfFailed(done);
    }

    /** Waits until {@code total} completions; returns the new reservation. */
    private long awaitCompleted(TransferCounter done, long awaited, long total) {
        if (total > awaited) {
            WindowCompletion.awaitLocal(done, total - awaited, timeout.toNanos(), driver);
            return total;
        }
        return awaited;
    }
}
