package dev.transferengine.bench.cli;

import dev.transferengine.bench.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** transfer-bench weights and moe end to end on loopback with tiny shapes: they verify bytes and print a ratio. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KitCommandsTest {

    private static String[] run(String... args) {
        CliRun r = CliRun.of(args);
        return new String[] {Integer.toString(r.exitCode()), r.out(), r.err()};
    }

    @Test
    void weightsPushesAVerifiedStepAndPrintsSubmitCostAndRatio() {
        String[] r = run("weights", "--provider", "loopback", "--layers", "1", "--width-divisor", "64",
                "--train-ranks", "3", "--infer-ranks", "2", "--steps", "1", "--watermark", "1M");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("bytes verified on every inference rank"), r[1]);
        assertTrue(r[1].contains("us per submit"), r[1]);
        assertTrue(r[1].contains("weight push / baseline = "), r[1]);
    }

    /** Training ranks as child JVMs over tcp, pushing into this process's inference ranks: bytes verified. */
    @Test
    void weightsTrainingRanksAsProcessesPushVerifiedSteps() {
        dev.transferengine.spi.Availability libfabric = new dev.transferengine.efa.LibfabricProvider().availability();
        org.junit.jupiter.api.Assumptions.assumeTrue(libfabric.available(), () -> "no libfabric: " + libfabric.reason());
        String[] r = run("weights", "--provider", "tcp", "--processes", "--layers", "1", "--width-divisor", "64",
                "--train-ranks", "2", "--infer-ranks", "2", "--steps", "1", "--watermark", "1M");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("training ranks: processes, pids "), r[1]);
        assertTrue(r[1].contains("bytes verified on every inference rank"), r[1]);
        assertTrue(r[1].contains("train rank 1: "), r[1]);
        assertEquals("2", run("weights", "--provider", "loopback", "--processes")[0], "loopback: a usage error");
    }

    /** Every rank a child JVM over tcp: descriptors exchanged as hex, first and last round verified in each rank. */
    @Test
    void moeRanksAsProcessesRunVerifiedRounds() {
        dev.transferengine.spi.Availability libfabric = new dev.transferengine.efa.LibfabricProvider().availability();
        org.junit.jupiter.api.Assumptions.assumeTrue(libfabric.available(), () -> "no libfabric: " + libfabric.reason());
        String[] r = run("moe", "--provider", "tcp", "--processes", "--ranks", "3", "--experts", "6", "--tokens",
                "16", "--top-k", "2", "--private-tokens", "4", "--rounds", "2");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("3 ranks (processes, pids "), r[1]);
        assertTrue(r[1].contains("first and last verified byte for byte"), r[1]);
        assertTrue(r[1].contains("moe / baseline = "), r[1]);
        String[] loopback = run("moe", "--provider", "loopback", "--processes");
        assertEquals("2", loopback[0], "loopback cannot cross processes: a usage error");
        assertTrue(loopback[2].contains("--processes needs a provider that crosses processes"), loopback[2]);
    }

    @Test
    void moeRunsVerifiedRoundsAndPrintsRatio() {
        String[] r = run("moe", "--provider", "loopback", "--ranks", "4", "--experts", "8", "--tokens", "16",
                "--top-k", "2", "--token-bytes", "256", "--private-tokens", "2", "--rounds", "2");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("first and last verified byte for byte"), r[1]);
        assertTrue(r[1].contains("moe / baseline = "), r[1]);
    }

    @Test
    void badShapesAreUsageErrors() {
        assertEquals("2", run("moe", "--ranks", "3", "--experts", "8")[0]);
        assertEquals("2", run("weights", "--steps", "0")[0]);
    }
}
