package dev.transferengine.bench.cli;

import dev.transferengine.bench.CliRun;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** transfer-bench local end to end on the loopback provider: small sweeps, bytes verified. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LocalCommandTest {

    @Test
    void verifiedSweepOverReorderingNicsReportsEveryRowAsJson() {
        CliRun r = CliRun.of("local", "--sizes", "1K,64K,1M", "--page-sizes", "4K", "--page-counts", "8",
                "--window", "4", "--warmup", "3", "--iterations", "40", "--nics-per-gpu", "3",
                "--provider-option", "loopback.reorder=true", "--verify", "--json", "--no-progress");
        assertEquals(0, r.exitCode(), r.err());
        JsonObject doc = JsonParser.parseString(r.out()).getAsJsonObject();
        JsonObject info = doc.getAsJsonObject("run");
        assertEquals("loopback", info.get("provider").getAsString());
        assertEquals(3, info.get("nicsPerGpu").getAsInt());
        assertEquals("imm", info.get("completion").getAsString());

        JsonArray rows = doc.getAsJsonArray("results");
        assertEquals(4, rows.size());
        long[] bytes = {1024, 65536, 1 << 20, 8 * 4096};
        long[] writes = {3, 3, 3, 8};          // a single write: one shard per NIC; a paged write: one per page
        for (int i = 0; i < rows.size(); i++) {
            JsonObject row = rows.get(i).getAsJsonObject();
            assertEquals(bytes[i], row.get("bytesPerOp").getAsLong());
            assertEquals(writes[i], row.get("writesPerOp").getAsLong());
            assertEquals(40, row.get("ops").getAsLong());
            assertTrue(row.get("verified").getAsBoolean());
            assertTrue(row.get("gbps").getAsDouble() > 0);
            assertTrue(row.get("p50Micros").getAsDouble() <= row.get("p99Micros").getAsDouble());
        }
        assertEquals("paged", rows.get(3).getAsJsonObject().get("sweep").getAsString());
    }

    @Test
    void localCompletionModePrintsATableWithBothSections() {
        CliRun r = CliRun.of("local", "--sizes", "4K", "--page-sizes", "1K", "--page-counts", "4", "--warmup", "2",
                "--iterations", "20", "--completion", "local", "--verify", "--no-progress");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("done = sender's local completion"), r.out());
        assertTrue(r.out().contains("single writes"), r.out());
        assertTrue(r.out().contains("paged writes"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("4 KiB ")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("1 KiB x 4 ")), r.out());
    }

    @Test
    void invokerThreadingMovesVerifiedRowsWithNoWorkerThreads() {
        for (String completion : new String[] {"imm", "local"}) {
            CliRun r = CliRun.of("local", "--threading", "invoker", "--sizes", "1K,1M", "--page-sizes", "4K", "--page-counts",
                    "8", "--window", "4", "--warmup", "3", "--iterations", "40", "--nics-per-gpu", "2",
                    "--completion", completion, "--verify", "--json", "--no-progress");
            assertEquals(0, r.exitCode(), r.err());
            JsonArray rows = JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonArray("results");
            assertEquals(3, rows.size(), r.out());
            for (int i = 0; i < rows.size(); i++) {
                assertTrue(rows.get(i).getAsJsonObject().get("verified").getAsBoolean(), r.out());
            }
            assertEquals("local (threading invoker)", JsonParser.parseString(r.out()).getAsJsonObject()
                    .getAsJsonObject("run").get("mode").getAsString(), "the report names the threading mode");
        }
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith("bench-sender-worker")),
                "invoker mode starts no worker thread");
        CliRun bad = CliRun.of("local", "--threading", "shared");
        assertEquals(2, bad.exitCode(), "a usage error");
        assertTrue(bad.err().contains("--threading must be dedicated or invoker"), bad.err());
    }

    @Test
    void aFailedWriteStopsTheRunWithTheProvidersMessage() {
        CliRun r = CliRun.of("local", "--sizes", "4K", "--sweep", "single", "--warmup", "0", "--iterations", "100",
                "--provider-option", "loopback.failEveryNth=10", "--timeout", "30", "--no-progress");
        assertEquals(1, r.exitCode(), r.out());
        assertTrue(r.err().contains("failed") && r.err().contains("failEveryNth"), r.err());
    }

    @Test
    void badOptionsAreUsageErrors() {
        assertEquals(2, CliRun.of("local", "--jit-warmup", "-1").exitCode(), "a negative JIT warm-up is a usage error");
        CliRun badSize = CliRun.of("local", "--sizes", "12Q");
        assertEquals(2, badSize.exitCode());
        assertTrue(badSize.err().contains("not a byte size"), badSize.err());

        CliRun unknownOption = CliRun.of("local", "--loopback.reorder");
        assertEquals(2, unknownOption.exitCode());
    }

    /** GPU rows need libcuda: without it (CI) they fail with the cause, never a stack trace or a crash. */
    @Test
    void gpuRowsSayWhyWhenNoGpuIsUsable() {
        org.junit.jupiter.api.Assumptions.assumeFalse(dev.transferengine.cuda.Cuda.isAvailable(),
                "a GPU is usable here: the GPU rows run with ./te gpu-bench");
        for (CliRun r : new CliRun[] {CliRun.of("local", "--device", "cuda:0"), CliRun.of("gpu", "--sizes", "1M")}) {
            assertEquals(1, r.exitCode(), r.err());
            assertTrue(r.err().contains("no usable GPU") && r.err().contains("libcuda"), r.err());
        }
        CliRun bad = CliRun.of("local", "--device", "tpu:0");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("--device must be host or cuda:N"), bad.err());
    }
}
