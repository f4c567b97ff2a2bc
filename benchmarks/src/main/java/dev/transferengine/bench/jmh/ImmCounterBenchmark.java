package dev.transferengine.bench.jmh;

import dev.transferengine.api.internal.CounterAccess;

import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.TransferEngine;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;

/**
 * What a worker does for every imm that lands: look the value up in the engine's imm table and add one to its
 * {@link ImmCounter}.
 *
 * <ul>
 *   <li>{@link #counterAdd}: the engine's {@code CounterAccess.addImms(counter, 1)} alone, one thread.</li>
 *   <li>{@link #counterAddContended}: the same counter from two threads (two groups' workers counting the same
 *       imm value).</li>
 *   <li>{@link #tableOnImm}: the engine's whole per-imm step, {@code ImmTable.onImm}: a binary search of the
 *       table's snapshot among {@code counters} values, then the counter's add. ImmTable is internal to
 *       transfer-core, so it is reached by reflection once, in setup (the benchmarks run on the class path, where
 *       package-private members can be opened); the call itself is a plain method handle invocation.</li>
 * </ul>
 */
@State(Scope.Benchmark)
public class ImmCounterBenchmark extends AbstractEngineBenchmark {
    private static final int IMM_BASE = 0x1000;

    /** How many imm values have counters: the table's binary search depth. */
    @Param({"1", "64", "1024"})
    int counters;

    private TransferEngine engine;
    private ImmCounter counter;
    private Object immTable;
    private MethodHandle onImm;
    private int hitImm;

    @Setup(Level.Trial)
    public void setUp() throws ReflectiveOperationException {
        engine = engine("jmh-imms", "loopback", 1, "backoff");
        for (int i = 0; i < counters; i++) {
            engine.immCounter(IMM_BASE + i);
        }
        hitImm = IMM_BASE + counters / 2;
        counter = engine.immCounter(hitImm);
        Method imms = engine.getClass().getDeclaredMethod("imms");
        imms.setAccessible(true);
        immTable = imms.invoke(engine);
        Method method = immTable.getClass().getDeclaredMethod("onImm", int.class);
        method.setAccessible(true);
        onImm = MethodHandles.lookup().unreflect(method).asType(MethodType.methodType(void.class, Object.class, int.class));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (counter.arrived() == 0) {
            throw new IllegalStateException("no imm was counted");
        }
        engine.close();
    }

    @Benchmark
    public void counterAdd() {
        CounterAccess.addImms(counter, 1);
    }

    @Benchmark
    @Threads(2)
    public void counterAddContended() {
        CounterAccess.addImms(counter, 1);
    }

    @Benchmark
    public void tableOnImm() throws Throwable {
        onImm.invokeExact(immTable, hitImm);
    }
}
