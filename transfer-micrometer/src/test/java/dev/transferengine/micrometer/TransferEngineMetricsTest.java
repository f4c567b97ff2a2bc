package dev.transferengine.micrometer;

import dev.transferengine.api.Counter;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.core.counters.CountersBlock;
import dev.transferengine.core.counters.CountersLayout;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TransferEngineMetricsTest {
    @Test
    void everyCounterIsReadAtScrapeTimeWithItsTags() {
        CountersBlock block = CountersBlock.inMemory(new CountersLayout(new int[] {2, 1}), "e", "loopback");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new TransferEngineMetrics(block, "prefill").bindTo(registry);

        block.group(0).add(1, Counter.BYTES_POSTED, 4096);
        block.group(1).add(0, Counter.WRITES_POSTED, 3);
        block.group(1).add(Counter.TRANSFERS_IN_FLIGHT, 5);
        block.group(0).failed(ErrorCategory.REMOTE_ACCESS);

        assertEquals(4096, registry.get("transferengine.bytes.posted").tags("engine", "prefill", "group", "0", "nic", "1")
                .functionCounter().count());
        assertEquals(0, registry.get("transferengine.bytes.posted").tags("group", "0", "nic", "0")
                .functionCounter().count());
        assertEquals(3, registry.get("transferengine.writes.posted").tags("group", "1", "nic", "0")
                .functionCounter().count());
        assertEquals(5, registry.get("transferengine.transfers.in.flight").tags("group", "1").gauge().value());
        assertEquals(1, registry.get("transferengine.errors").tags("group", "0", "category", "REMOTE_ACCESS")
                .functionCounter().count());
        assertEquals(1, registry.get("transferengine.transfers.failed").tags("group", "0").functionCounter().count());

        long perNicMeters = registry.getMeters().stream().map(Meter::getId)
                .filter(id -> id.getName().equals("transferengine.writes.posted")).count();
        assertEquals(3, perNicMeters, "one meter per NIC: 2 in group 0, 1 in group 1");
    }
}
