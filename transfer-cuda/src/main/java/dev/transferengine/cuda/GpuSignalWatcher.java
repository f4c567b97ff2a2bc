package dev.transferengine.cuda;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.IdleStrategy;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferTimeoutException;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongUnaryOperator;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * GPU-signalled work without host synchronisation (the reference system's "UVM watcher"). The watcher owns a
 * block of pinned, device-mapped host memory divided into 64-bit signal words. A GPU stream sets a word with
 * {@link CudaStream#writeValue64}{@code (signal.deviceAddress(), v)} after the kernels that produced some data;
 * the watcher's own thread, spinning on acquire reads of the words, sees the value reach a target and runs the
 * action {@linkplain #watch registered} for it, for example posting the RDMA write of that data.
 *
 * <p>Threading: {@link #newSignal()}, {@link #watch} and {@link #close()} may be called from any thread. Actions
 * run on the watcher thread, one at a time, each exactly once, in no particular order between signals; a slow
 * action delays every other signal, so actions should only hand work off. An action that throws is reported to
 * the watcher thread's uncaught-exception handler and the watcher carries on. When idle the thread spins, then
 * yields (or follows the {@link IdleStrategy} given), so by default it keeps one core busy.
 *
 * <p>Each signal records the {@link System#nanoTime()} at which the watcher saw its word reach the target
 * ({@link Signal#seenNanos()}), for measuring signal-to-action latency.
 */
public final class GpuSignalWatcher implements AutoCloseable {
    /** How long {@link #close()} waits for the watcher thread to stop. */
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(1);
    private static final VarHandle WORD = JAVA_LONG.varHandle();

    private final MemorySegment words;
    private final LongUnaryOperator hostToDevice;
    private final Duration closeTimeout;
    private final ArrayDeque<Integer> freeWords = new ArrayDeque<>();
    private final Queue<Watch> submitted = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * Starts a watcher with {@code signalCount} words of pinned host memory that spins, then yields when idle.
     *
     * @throws InvalidRequestException      for a non-positive count
     * @throws ProviderUnavailableException when CUDA is unavailable
     */
    public static GpuSignalWatcher create(int signalCount) {
        return create(signalCount, IdleStrategy.backoff(10_000, Long.MAX_VALUE, 1, 1));
    }

    /**
     * Starts a watcher whose thread idles with {@code idle} between scans that saw nothing (for example
     * {@link IdleStrategy#backoff()} to give up latency for CPU). The strategy should not park for long: close
     * waits at most {@link #DEFAULT_CLOSE_TIMEOUT}.
     */
    public static GpuSignalWatcher create(int signalCount, IdleStrategy idle) {
        Checks.positive(signalCount, "signal count");
        if (signalCount > Integer.MAX_VALUE / 8) {
            throw new InvalidRequestException("signal count " + signalCount + " is too large");
        }
        CudaPinnedMemory memory = CudaPinnedMemory.allocate(8L * signalCount);
        long offset = memory.deviceAddress() - memory.hostAddress();
        try {
            return new GpuSignalWatcher(memory.segment(), host -> host + offset, idle, DEFAULT_CLOSE_TIMEOUT, memory::close);
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
    }

    /**
     * A watcher over any host memory (tests write the words from Java threads instead of a GPU).
     *
     * @param words        8-byte aligned memory, one signal per 8 bytes; must outlive the watcher thread
     * @param hostToDevice maps a word's host address to the address a device writes
     * @param onStop       run on the watcher thread as it exits (frees {@code words})
     */
    GpuSignalWatcher(MemorySegment words, LongUnaryOperator hostToDevice, IdleStrategy idle, Duration closeTimeout,
                     Runnable onStop) {
        if (words.byteSize() < 8 || (words.address() & 7) != 0) {
            throw new InvalidRequestException("signal words need at least 8 bytes of 8-byte aligned memory");
        }
        this.words = words;
        this.hostToDevice = hostToDevice;
        this.closeTimeout = closeTimeout;
        for (int i = 0; i < words.byteSize() / 8; i++) {
            freeWords.add(i);
        }
        Scanner scanner = new Scanner(Objects.requireNonNull(idle, "idle"), onStop);
        this.thread = Thread.ofPlatform().name("te-gpu-signal-watcher").daemon().unstarted(scanner);
        thread.start();
    }

    /**
     * Takes a free signal word and sets it to 0.
     *
     * @throws TransferException with category {@link ErrorCategory#BACK_PRESSURE} when every word is in use
     * @throws ClosedException   after {@link #close()}
     */
    public Signal newSignal() {
        ensureRunning();
        Integer index;
        synchronized (freeWords) {
            index = freeWords.poll();
        }
        if (index == null) {
            throw new TransferException(ErrorCategory.BACK_PRESSURE, "all " + capacity()
                    + " signal words are in use: release some or create a larger watcher");
        }
        Signal signal = new Signal(index);
        signal.set(0);
        return signal;
    }

    /**
     * Runs {@code action} once, on the watcher thread, as soon as {@code signal}'s word is at least
     * {@code targetValue} (signed comparison; immediately if it already is). Several watches may wait on one
     * signal. Watches still waiting when the watcher closes never run.
     *
     * @throws InvalidRequestException when the signal is released or belongs to another watcher
     * @throws ClosedException         after {@link #close()}
     */
    public void watch(Signal signal, long targetValue, Runnable action) {
        Objects.requireNonNull(action, "action");
        if (signal.owner() != this || signal.released) {
            throw new InvalidRequestException(signal + " is released or belongs to another watcher");
        }
        ensureRunning();
        submitted.add(new Watch(signal, targetValue, action));
    }

    /** How many signal words the watcher has. */
    public int capacity() {
        return (int) (words.byteSize() / 8);
    }

    /** Whether the watcher thread is still running. */
    public boolean isRunning() {
        return thread.isAlive();
    }

    /**
     * Stops the watcher thread and frees the words (the thread frees them as it exits). Waits at most the close
     * timeout. Idempotent.
     *
     * @throws TransferTimeoutException when the thread did not stop in time (an action is stuck); it is
     *                                  interrupted and frees the words when it does stop
     */
    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(closeTimeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            thread.interrupt();
            throw new TransferTimeoutException("GPU signal watcher did not stop within " + closeTimeout.toMillis()
                    + " ms: an action is still running");
        }
    }

    private void ensureRunning() {
        if (!running) {
            throw new ClosedException("GPU signal watcher is closed");
        }
    }

    /** One 64-bit word a GPU sets and the watcher reads. Obtained from {@link #newSignal()}. Thread-safe. */
    public final class Signal {
        private final int index;
        private volatile long seenNanos;
        private volatile boolean released;

        private Signal(int index) {
            this.index = index;
        }

        private GpuSignalWatcher owner() {
            return GpuSignalWatcher.this;
        }

        private long offset() {
            return 8L * index;
        }

        /** Host address of the word. */
        public long hostAddress() {
            return words.address() + offset();
        }

        /** The address a device writes ({@link CudaStream#writeValue64}). */
        public long deviceAddress() {
            return hostToDevice.applyAsLong(hostAddress());
        }

        /** The word's current value (acquire read). */
        public long value() {
            return (long) WORD.getAcquire(words, offset());
        }

        /** Sets the word from the host (release write), for example to reset it before reuse. */
        public void set(long value) {
            WORD.setRelease(words, offset(), value);
        }

        /** {@link System#nanoTime()} at which the watcher last saw this word reach a watch's target; 0 before. */
        public long seenNanos() {
            return seenNanos;
        }

        /**
         * Returns the word to the watcher; watches still waiting on it are dropped. The GPU must no longer write
         * it. Idempotent.
         */
        public void release() {
            if (released) {
                return;
            }
            released = true;
            synchronized (freeWords) {
                freeWords.add(index);
            }
        }

        @Override
        public String toString() {
            return "signal " + index + " (host 0x" + Long.toHexString(hostAddress()) + ")";
        }
    }

    private record Watch(Signal signal, long target, Runnable action) {
    }

    /** The watcher thread: drains new watches, scans the waiting ones, runs the actions of those reached. */
    private final class Scanner implements Runnable {
        private final ArrayList<Watch> waiting = new ArrayList<>();
        private final IdleStrategy idle;
        private final Runnable onStop;

        Scanner(IdleStrategy idle, Runnable onStop) {
            this.idle = idle;
            this.onStop = onStop;
        }

        @Override
        public void run() {
            try {
                while (running) {
                    idle.idle(scan());
                }
            } finally {
                onStop.run();
            }
        }

        private int scan() {
            for (Watch w; (w = submitted.poll()) != null; ) {
                waiting.add(w);
            }
            int fired = 0;
            for (int i = waiting.size() - 1; i >= 0; i--) {
                Watch w = waiting.get(i);
                if (w.signal.released) {
                    removeAt(i);
                } else if (w.signal.value() >= w.target) {
                    w.signal.seenNanos = System.nanoTime();
                    removeAt(i);
                    fired++;
                    run(w.action);
                }
            }
            return fired;
        }

        /** Swap-remove: order between watches does not matter. */
        private void removeAt(int i) {
            int last = waiting.size() - 1;
            waiting.set(i, waiting.get(last));
            waiting.remove(last);
        }

        private void run(Runnable action) {
            try {
                action.run();
            } catch (Throwable t) {
                Thread.UncaughtExceptionHandler handler = Thread.currentThread().getUncaughtExceptionHandler();
                handler.uncaughtException(Thread.currentThread(), t);
            }
        }
    }
}
