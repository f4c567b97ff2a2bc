package dev.transferengine.micrometer;

import dev.transferengine.api.Counter;
import dev.transferengine.api.EngineCounters;
import dev.transferengine.api.ErrorCategory;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.Locale;
import java.util.Objects;

/**
 * Binds an engine's {@link EngineCounters} to a Micrometer {@link MeterRegistry}: each counter becomes a
 * {@link FunctionCounter} (a {@link Gauge} for {@link Counter#isGauge() gauges}) that reads the engine's value
 * when the registry is scraped, so the engine's hot path pays nothing for metrics.
 *
 * <p>Names: {@code transferengine.<counter>} in lower case with dots ({@code transferengine.writes.posted};
 * Prometheus shows {@code transferengine_writes_posted_total}), tagged {@code engine}, {@code group} and, for
 * per-NIC counters, {@code nic}; failed transfers per category are {@code transferengine.errors} tagged
 * {@code category}. Usage: {@code new TransferEngineMetrics(engine.counters(), "prefill").bindTo(registry)}.
 */
public final class TransferEngineMetrics implements MeterBinder {
    private static final String PREFIX = "transferengine.";

    private final EngineCounters counters;
    private final Tags tags;

    /**
     * @param counters   the engine's counters ({@code TransferEngine.counters()})
     * @param engineName the value of the {@code engine} tag (tells engines of one process apart)
     * @param extraTags  further tags for every meter
     */
    public TransferEngineMetrics(EngineCounters counters, String engineName, Tag... extraTags) {
        this.counters = Objects.requireNonNull(counters, "counters");
        this.tags = Tags.of("engine", Objects.requireNonNull(engineName, "engineName")).and(extraTags);
    }

    /** The meter name of {@code counter}: {@code transferengine.writes.posted} for {@link Counter#WRITES_POSTED}. */
    public static String meterName(Counter counter) {
        return PREFIX + counter.name().toLowerCase(Locale.ROOT).replace('_', '.');
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (int g = 0; g < counters.groups(); g++) {
            final int group = g;
            Tags groupTags = tags.and("group", Integer.toString(group));
            for (Counter c : Counter.values()) {
                if (c.isGauge()) {
                    Gauge.builder(meterName(c), counters, v -> v.get(group, c)).tags(groupTags)
                            .description(describe(c)).register(registry);
                } else if (c.perNic()) {
                    for (int n = 0; n < counters.nics(group); n++) {
                        final int nic = n;
                        FunctionCounter.builder(meterName(c), counters, v -> v.get(group, nic, c))
                                .tags(groupTags.and("nic", Integer.toString(nic))).description(describe(c))
                                .baseUnit(c == Counter.BYTES_POSTED ? "bytes" : null).register(registry);
                    }
                } else {
                    FunctionCounter.builder(meterName(c), counters, v -> v.get(group, c)).tags(groupTags)
                            .description(describe(c)).baseUnit(c == Counter.BYTES_SUBMITTED ? "bytes" : null)
                            .register(registry);
                }
            }
            for (ErrorCategory category : ErrorCategory.values()) {
                FunctionCounter.builder(PREFIX + "errors", counters, v -> v.errors(group, category))
                        .tags(groupTags.and("category", category.name()))
                        .description("Transfers that failed, by error category").register(registry);
            }
        }
    }

    private static String describe(Counter c) {
        return "TransferEngine counter " + c.name() + (c.perNic() ? " (per NIC)" : " (per group)");
    }
}
