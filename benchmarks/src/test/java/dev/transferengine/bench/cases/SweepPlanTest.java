package dev.transferengine.bench.cases;

import dev.transferengine.bench.cli.ProviderChoice;
import dev.transferengine.bench.cli.SweepOptions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SweepPlanTest {

    private static SweepPlan plan(String... args) {
        SweepOptions options = new SweepOptions();
        new CommandLine(options).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args);
        return options.plan();
    }

    @Test
    void largeWritesGetASmallerWindowAndFewerIterations() {
        SweepPlan p = plan("--window", "16", "--max-inflight", "256M", "--iterations", "2000", "--bytes-per-case", "2G",
                "--warmup", "200");
        assertEquals(16, p.windowFor(4096));
        assertEquals(4, p.windowFor(64L << 20));
        assertEquals(1, p.windowFor(1L << 30));
        assertEquals(2000, p.iterationsFor(4096));
        assertEquals(32, p.iterationsFor(64L << 20));
        assertEquals(SweepPlan.MIN_ITERATIONS, p.iterationsFor(1L << 30));
        assertEquals(200, p.warmupFor(4096));
        assertEquals(8, p.warmupFor(64L << 20));
        assertEquals(1, p.warmupFor(1L << 40));
    }

    @Test
    void fewerIterationsThanTheMinimumAreKeptWhenAskedFor() {
        SweepPlan p = plan("--iterations", "5", "--warmup", "0");
        assertEquals(5, p.iterationsFor(64L << 20));
        assertEquals(0, p.warmupFor(64));
    }

    @Test
    void casesComeSinglesFirstThenEveryPageSizeByCount() {
        List<WriteCase> cases = plan("--sizes", "1K,4K", "--page-sizes", "4K,16K", "--page-counts", "2,8").cases();
        assertEquals(6, cases.size());
        assertEquals(new SingleWriteCase(1024), cases.get(0));
        PagedWriteCase last = assertInstanceOf(PagedWriteCase.class, cases.get(5));
        assertEquals(16384, last.pageLength());
        assertEquals(8, last.pageCount());
        assertEquals(8 * 16384, last.bytesPerOp());
        assertEquals("16 KiB x 8", last.label());
    }

    @Test
    void pagePermutationsAreSeededPermutations() {
        PagedWriteCase a = new PagedWriteCase(4096, 64, 7);
        PagedWriteCase b = new PagedWriteCase(4096, 64, 7);
        assertArrayEquals(a.srcPages(), b.srcPages(), "same seed, same pages");
        assertArrayEquals(a.dstPages(), b.dstPages(), "same seed, same pages");
        boolean[] seen = new boolean[64];
        for (int page : a.dstPages()) {
            seen[page] = true;
        }
        for (boolean s : seen) {
            assertTrue(s, "every destination page is used exactly once");
        }
    }

    @Test
    void badValuesAreUsageErrors() {
        assertThrows(IllegalArgumentException.class, () -> plan("--window", "0"));
        assertThrows(IllegalArgumentException.class, () -> plan("--iterations", "0"));
        assertThrows(IllegalArgumentException.class, () -> plan("--page-counts", "0"));
        assertThrows(IllegalArgumentException.class, () -> plan("--sizes", "4K-1K"));
        assertThrows(IllegalArgumentException.class, () -> plan("--max-inflight", "0"));
    }

    @Test
    void providerChoicesMapToEngineProvidersAndExplicitOptionsWin() {
        assertEquals("libfabric", ProviderChoice.TCP.engineProvider());
        assertEquals(Map.of("libfabric.provider", "tcp;ofi_rxm", "libfabric.node", "127.0.0.1"),
                ProviderChoice.TCP.options(Map.of()));
        assertEquals(Map.of("libfabric.provider", "tcp", "libfabric.node", "127.0.0.1"),
                ProviderChoice.TCP.options(Map.of("libfabric.provider", "tcp")));
        assertEquals("loopback", ProviderChoice.LOOPBACK.engineProvider());
        assertEquals(Map.of(), ProviderChoice.LOOPBACK.options(Map.of()));
    }
}
