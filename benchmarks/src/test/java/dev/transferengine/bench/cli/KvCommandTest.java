package dev.transferengine.bench.cli;

import dev.transferengine.bench.CliRun;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code transfer-bench kv} on loopback: one row per prompt, bytes verified; bad options are usage errors. */
class KvCommandTest {
    @Test
    void aScaledDownHandOffPrintsAVerifiedRowPerPrompt() {
        CliRun r = CliRun.of("kv", "--layers", "2", "--prompts", "100,512", "--prefill-tp", "4", "--decode-tp", "2",
                "--chunk-tokens", "256", "--rounds", "1", "--warmup", "1",
                "--provider-option", "loopback.reorder=true");
        assertEquals(0, r.exitCode(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(4, lines.length, r.out());
        assertTrue(lines[2].trim().startsWith("100 ") && lines[2].endsWith("verified"), lines[2]);
        assertTrue(lines[3].trim().startsWith("512 ") && lines[3].endsWith("verified"), lines[3]);
    }

    @Test
    void badShapesAreUsageErrors() {
        assertEquals(2, CliRun.of("kv", "--prefill-tp", "3").exitCode(), "3 ranks cannot split 8 heads");
        assertEquals(2, CliRun.of("kv", "--rounds", "0").exitCode());
        assertEquals(2, CliRun.of("kv", "--chunk-tokens", "10").exitCode());
        assertEquals(2, CliRun.of("kv", "--device", "cuda:x").exitCode());
        assertEquals(2, CliRun.of("kv", "--device", "tpu:0").exitCode());
    }

    /** The prefill side in a child JVM over tcp: every decoder byte verified, the baseline written from there too. */
    @Test
    void theSidesAsTwoProcessesHandOffVerifiedKv() {
        dev.transferengine.spi.Availability libfabric = new dev.transferengine.efa.LibfabricProvider().availability();
        org.junit.jupiter.api.Assumptions.assumeTrue(libfabric.available(), () -> "no libfabric: " + libfabric.reason());
        CliRun r = CliRun.of("kv", "--provider", "tcp", "--processes", "--layers", "2", "--prompts", "100,512",
                "--chunk-tokens", "256", "--rounds", "1", "--warmup", "1");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("prefill side in another process (pid "), r.out());
        assertEquals(2, r.out().lines().filter(l -> l.endsWith("verified")).count(), r.out());
        assertEquals(2, CliRun.of("kv", "--provider", "loopback", "--processes").exitCode(), "loopback: a usage error");
    }

    /** GPU memory needs libcuda: without it (CI) the demo fails with the cause, never a stack trace or a crash. */
    @Test
    void gpuMemorySaysWhyWhenNoGpuIsUsable() {
        org.junit.jupiter.api.Assumptions.assumeFalse(dev.transferengine.cuda.Cuda.isAvailable(),
                "a GPU is usable here: KvHandOffCudaGpuTest and `./te gpu-bench kv --device cuda:0` cover it");
        CliRun r = CliRun.of("kv", "--device", "cuda:0", "--layers", "2", "--prompts", "100", "--rounds", "1");
        assertEquals(1, r.exitCode(), r.err());
        assertTrue(r.err().contains("no usable GPU") && r.err().contains("libcuda"), r.err());
    }
}
