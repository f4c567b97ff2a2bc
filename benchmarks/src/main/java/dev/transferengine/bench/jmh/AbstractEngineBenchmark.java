package dev.transferengine.bench.jmh;

import dev.transferengine.api.ThreadingMode;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.bench.cli.IdleChoice;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What every TransferEngine micro-benchmark shares: one fork with the flags the engine needs, short
 * warm-up and measurement defaults for a noisy 2-core box (override with {@code -f -wi -i}), average
 * time per operation in nanoseconds, and helpers to build engines.
 *
 * <p>The forked JVM inherits the environment of the JMH launcher, so run through {@code ./te jmh}, which
 * exports {@code IPATH_NO_BACKTRACE=1}: JMH's {@code @Fork} cannot set environment variables, and
 * Debian's libfabric replaces the JVM's SIGSEGV handler unless that variable is set before it loads
 * (the libfabric provider also sets it itself before loading the library).
 */
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public abstract class AbstractEngineBenchmark {
    /** Deadline of every wait in a benchmark: long enough never to fire unless something is broken. */
    protected static final Duration AWAIT_TIMEOUT = Duration.ofSeconds(30);

    /** An engine on {@code provider} with one group of {@code nics} NICs idling with {@code idle}. */
    protected static TransferEngine engine(String name, String provider, int nics, String idle) {
        return engine(name, provider, nics, idle, ThreadingMode.DEDICATED);
    }

    /** {@link #engine(String, String, int, String)} in the given threading mode. */
    protected static TransferEngine engine(String name, String provider, int nics, String idle, ThreadingMode mode) {
        return TransferEngine.builder()
                .name(name)
                .provider(provider)
                .groups(1, nics)
                .idleStrategy(IdleChoice.named(idle).factory())
                .threadingMode(mode)
                .build();
    }
}
