package dev.transferengine.core;

import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Control;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The request queue alone, against Agrona's {@link ManyToOneConcurrentArrayQueue} (issue 10: use Agrona's queue
 * unless a JMH run shows the engine's faster). Three shapes:
 * <ul>
 *   <li>{@code handoff}: one thread offers while a second drains in a loop, as a dedicated worker does: the
 *       {@code offer} score is what a submit pays for the queue when a consumer on another core keeps reading it
 *       (the cache lines of each slot move between the two cores). An offer that finds the ring full spins until it
 *       is accepted (or the iteration ends: the drainer may stop first), so a consumer slower than the producer
 *       shows up in the score.</li>
 *   <li>{@code roundTrip}: the same two threads, but the offering thread then waits until the draining thread has
 *       counted the element: the score is one hand-off there and the count's way back, an upper bound on "submit to
 *       the worker seeing it" (about twice a one-way cache-line transfer at the least); sampled, read its p50.</li>
 *   <li>{@code sameThread}: offer then drain on one thread, as in invoker mode: the queue's own instructions.</li>
 * </ul>
 * Both queues carry the same pre-built objects (nothing allocates); the engine's queue carries a
 * (payload, completion) pair per slot, Agrona's one element, which is all its API offers. This class sits in
 * {@code dev.transferengine.core} (in the benchmarks jar, on the class path) because the queue is package-private.
 * Agrona 2's queues reach {@code jdk.internal.misc.Unsafe}, so their JVM needs
 * {@code --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED} (the fork below has it); the engine's queue needs no
 * flag, which an embedded library cannot ask of its users anyway.
 */
@State(Scope.Group)
@Fork(jvmArgsAppend = "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED") // Agrona's queues need Unsafe
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RequestQueueBenchmark {
    private static final int CAPACITY = 1024;
    private static final int DRAIN_LIMIT = 64;

    /** engine: {@link RequestQueue}; agrona: {@link ManyToOneConcurrentArrayQueue}. */
    @Param({"engine", "agrona"})
    String queue;

    private final Object payload = new Object();
    private final Object completion = new Object();
    private RequestQueue engineQueue;
    private ManyToOneConcurrentArrayQueue<Object> agronaQueue;
    private final RequestQueue.Drain engineSink = (p, c) -> { };
    private final Consumer<Object> agronaSink = e -> { };
    private boolean engine;
    /** Elements the {@code roundTrip} drainer has taken; written by that thread only. */
    private volatile long seen;
    /** Elements the {@code roundTrip} offerer has offered; that thread only. */
    private long offered;
    private final RequestQueue.Drain engineCounter = (p, c) -> seen = seen + 1;
    private final Consumer<Object> agronaCounter = e -> seen = seen + 1;

    @Setup(Level.Trial)
    public void setUp() {
        engine = queue.equals("engine");
        engineQueue = new RequestQueue(CAPACITY);
        agronaQueue = new ManyToOneConcurrentArrayQueue<>(CAPACITY);
    }

    @Benchmark
    @Group("handoff")
    @GroupThreads(1)
    public void offer(Control control) {
        if (engine) {
            while (!engineQueue.offer(payload, completion) && !control.stopMeasurement) {
                Thread.onSpinWait();
            }
        } else {
            while (!agronaQueue.offer(payload) && !control.stopMeasurement) {
                Thread.onSpinWait();
            }
        }
    }

    @Benchmark
    @Group("handoff")
    @GroupThreads(1)
    public int drain() {
        return engine ? engineQueue.drain(engineSink, DRAIN_LIMIT) : agronaQueue.drain(agronaSink, DRAIN_LIMIT);
    }

    @Benchmark
    @Group("roundTrip")
    @GroupThreads(1)
    @BenchmarkMode(Mode.SampleTime) // percentiles: an element offered as an iteration ends waits out the boundary
    public void offerUntilSeen(Control control) {
        long target = ++offered;
        offer(control);
        while (seen < target && !control.stopMeasurement) {
            Thread.onSpinWait();
        }
    }

    @Benchmark
    @Group("roundTrip")
    @GroupThreads(1)
    @BenchmarkMode(Mode.SampleTime)
    public int drainCounting() {
        return engine ? engineQueue.drain(engineCounter, DRAIN_LIMIT) : agronaQueue.drain(agronaCounter, DRAIN_LIMIT);
    }

    @Benchmark
    @Group("sameThread")
    @GroupThreads(1)
    public int offerThenDrain() {
        if (engine) {
            engineQueue.offer(payload, completion);
            return engineQueue.drain(engineSink, DRAIN_LIMIT);
        }
        agronaQueue.offer(payload);
        return agronaQueue.drain(agronaSink, DRAIN_LIMIT);
    }
}
