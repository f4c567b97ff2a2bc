package dev.transferengine.bench.cli;

import dev.transferengine.bench.CliRun;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * transfer-bench compare: its libfabric flags, and short end-to-end runs on libfabric shm and tcp (skipped where
 * gcc or libfabric's headers are missing). The C baseline itself: NativeBaselineTest; the row arithmetic:
 * CompareRowTest.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CompareCommandTest {

    @Test
    void libfabricFlagsFollowTheEnginesAutomaticChoiceUnlessGiven() {
        assertTrue(CompareCommand.flag("k", null, true));
        assertFalse(CompareCommand.flag("k", "auto", false));
        assertTrue(CompareCommand.flag("k", " TRUE", false));
        assertFalse(CompareCommand.flag("k", "false", true));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> CompareCommand.flag("libfabric.hmem", "sometimes", true));
        assertTrue(bad.getMessage().startsWith("libfabric.hmem must be true, false or auto"), bad.getMessage());
    }

    @Test
    void comparesBothSidesOnShmRoundByRound() {
        assumeTrue(CliRun.canBuildBaseline(), "gcc or libfabric-dev missing");
        CliRun r = CliRun.of("compare", "--provider", "shm", "--sizes", "4K,64K", "--rounds", "2", "--warmup", "10",
                "--iterations", "200", "--jit-warmup", "0", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonObject doc = JsonParser.parseString(r.out()).getAsJsonObject();
        JsonObject header = doc.getAsJsonObject("run");
        assertEquals("shm", header.get("libfabricProvider").getAsString());
        assertFalse(header.get("deliveryComplete").getAsBoolean());
        assertFalse(header.get("hmem").getAsBoolean());
        assertEquals("false", header.getAsJsonObject("javaOptions").get("libfabric.deliveryComplete").getAsString());
        assertEquals("false", header.getAsJsonObject("javaOptions").get("libfabric.hmem").getAsString());
        assertTrue(header.get("baseline").getAsString().endsWith("fi_write_bench -p shm -H -y"),
                header.get("baseline").getAsString());
        JsonArray rows = doc.getAsJsonArray("results");
        assertEquals(2, rows.size());
        long[] sizes = {4096, 65536};
        for (int i = 0; i < 2; i++) {
            JsonObject row = rows.get(i).getAsJsonObject();
            assertEquals(sizes[i], row.get("bytes").getAsLong());
            for (String side : new String[] {"c", "java"}) {
                JsonArray samples = row.getAsJsonArray(side);
                assertEquals(2, samples.size(), side);
                for (int k = 0; k < 2; k++) {
                    assertEquals(200, samples.get(k).getAsJsonObject().get("ops").getAsLong(), side);
                    assertEquals(sizes[i], samples.get(k).getAsJsonObject().get("bytes").getAsLong(), side);
                }
            }
            assertTrue(row.get("ratio").getAsDouble() > 0, row.toString());
        }
        assertTrue(r.err().contains("round 2/2 64 KiB"), r.err());
    }

    @Test
    void comparesOnTcpWithDeliveryCompleteOnBothSidesAndPrintsATable() {
        assumeTrue(CliRun.canBuildBaseline(), "gcc or libfabric-dev missing");
        CliRun r = CliRun.of("compare", "--provider", "tcp", "--sizes", "64K", "--rounds", "1", "--warmup", "5",
                "--iterations", "100", "--jit-warmup", "0");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("libfabric 'tcp;ofi_rxm' on 127.0.0.1")
                && r.out().contains("delivery-complete on, FI_HMEM not asked, on both sides"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("64 KiB") && l.contains(" 100 ")), r.out());
    }

    @Test
    void invokerThreadingRunsTheJavaSideWithoutWorkerThreads() {
        assumeTrue(CliRun.canBuildBaseline(), "gcc or libfabric-dev missing");
        CliRun r = CliRun.of("compare", "--provider", "shm", "--threading", "invoker", "--sizes", "4K", "--rounds", "1",
                "--warmup", "5", "--iterations", "200", "--jit-warmup", "0", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonObject doc = JsonParser.parseString(r.out()).getAsJsonObject();
        assertTrue(doc.getAsJsonObject("run").get("idle").getAsString().startsWith("invoker"), r.out());
        JsonObject row = doc.getAsJsonArray("results").get(0).getAsJsonObject();
        assertEquals(200, row.getAsJsonArray("java").get(0).getAsJsonObject().get("ops").getAsLong(), r.out());
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith("cmp-")),
                "no worker or invoker thread outlives the run");
        CliRun bad = CliRun.of("compare", "--threading", "shared");
        assertNotEquals(0, bad.exitCode());
        assertTrue(bad.err().contains("--threading must be dedicated or invoker"), bad.err());
    }

    @Test
    void theBaselineRunsOnTheLibfabricTheEngineIsPointedAt() {
        assumeTrue(CliRun.canBuildBaseline(), "gcc or libfabric-dev missing");
        // The name the engine loads by default: libfabric is loaded once per process, and other tests of this JVM
        // may have loaded it already under that name (a different path would be refused).
        String library = "libfabric.so.1";
        CliRun r = CliRun.of("compare", "--provider", "shm", "--sizes", "4K", "--rounds", "1", "--warmup", "5",
                "--iterations", "100", "--jit-warmup", "0", "--provider-option", "libfabric.library=" + library, "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonObject doc = JsonParser.parseString(r.out()).getAsJsonObject();
        String baseline = doc.getAsJsonObject("run").get("baseline").getAsString();
        assertTrue(baseline.startsWith("LD_PRELOAD=" + library + " "), baseline);
        JsonObject row = doc.getAsJsonArray("results").get(0).getAsJsonObject();
        assertEquals(100, row.getAsJsonArray("c").get(0).getAsJsonObject().get("ops").getAsLong(), r.out());
        CliRun plain = CliRun.of("compare", "--provider", "shm", "--sizes", "4K", "--rounds", "1", "--warmup", "5",
                "--iterations", "100", "--jit-warmup", "0", "--json");
        assertEquals(0, plain.exitCode(), plain.err());
        assertFalse(JsonParser.parseString(plain.out()).getAsJsonObject().getAsJsonObject("run").get("baseline")
                .getAsString().contains("LD_PRELOAD"), "nothing preloaded unless the engine is pointed at a library");
    }

    @Test
    void badOptionsAreUsageErrors() {
        assertEquals(2, CliRun.of("compare", "--provider", "loopback").exitCode());
        assertEquals(2, CliRun.of("compare", "--window", "2000").exitCode());
        assertEquals(2, CliRun.of("compare", "--rounds", "0").exitCode());
        assertEquals(2, CliRun.of("compare", "--provider-option", "libfabric.deliveryComplete=maybe").exitCode());
        CliRun negative = CliRun.of("compare", "--jit-warmup", "-1");
        assertEquals(2, negative.exitCode());
        assertTrue(negative.err().contains("--jit-warmup must be >= 0"), negative.err());
    }

    @Test
    void jitWarmupIsTheOptionWithinAQuarterOfTheRowButNeverBelowTheOld2000() {
        CompareCommand c = new CompareCommand();
        long row = 2L << 30;
        assertEquals(400_000, c.jitWarmupFor(64, 5000, row));
        assertEquals(8192, c.jitWarmupFor(64 * 1024, 5000, row), "a quarter of the row's 2 GiB");
        assertEquals(2000, c.jitWarmupFor(1 << 20, 2048, row), "the old floor");
        assertEquals(200, c.jitWarmupFor(4096, 200, row / 1024), "short rows: the row's writes");
        c.jitWarmup = 0;
        assertEquals(2000, c.jitWarmupFor(64, 5000, row));
    }
}
