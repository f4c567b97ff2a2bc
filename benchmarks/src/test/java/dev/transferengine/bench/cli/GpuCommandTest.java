package dev.transferengine.bench.cli;

import dev.transferengine.bench.CliRun;
import dev.transferengine.bench.TransferBench;
import dev.transferengine.bench.cases.RateSample;
import dev.transferengine.cuda.Cuda;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * {@code transfer-bench gpu} and its native baseline (fi_write_bench -P -D cuda:N) without a GPU: the settings and
 * environment the baseline gets from gpu's options, the option combinations that are usage errors, and the
 * one-line failure where no GPU is usable.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class GpuCommandTest {

    private static GpuCommand parse(String... args) {
        CommandLine.ParseResult parsed = TransferBench.commandLine().parseArgs(args);
        return (GpuCommand) parsed.subcommand().commandSpec().userObject();
    }

    @Test
    void gpuOptionsGiveTheBaselineTheEnginesProviderAndDevice() {
        GpuCommand g = parse("gpu", "--provider", "shm", "--peer-process", "--device", "1", "--baseline-binary",
                "/kit/fi_write_bench", "--option", "libfabric.library=/kit/libfabric.so.1.20.0");
        g.validate();
        assertEquals(Path.of("/kit/fi_write_bench"), g.baselineBinary);
        assertEquals(List.of("-p", "shm", "-P", "-D", "cuda:1"), g.baselineSettings().flags());
        assertTrue(g.baselineEnvironment().get("LD_PRELOAD").startsWith("/kit/libfabric.so.1.20.0"),
                g.baselineEnvironment().toString());
        assertEquals(GpuCommand.CudaIpcMode.ON, g.cudaIpc);

        GpuCommand yielding = parse("gpu", "--provider", "shm", "--peer-process", "--baseline-binary", "/b",
                "--baseline-idle", "yield", "--option", "libfabric.deliveryComplete=true", "--cuda-ipc", "both");
        yielding.validate();
        assertEquals(GpuCommand.CudaIpcMode.BOTH, yielding.cudaIpc);
        assertEquals(List.of("-p", "shm", "-D", "-y", "-P", "-D", "cuda:0"), yielding.baselineSettings().flags());
        assertEquals(GpuCommand.CudaIpcMode.OFF, parse("gpu", "--cuda-ipc", "off").cudaIpc);

        // fi_write_bench prints Gbps; the table is in GB/s.
        RateSample oneGigabyteASecond = new RateSample(1 << 20, 1000, (1 << 20) * 1000 / 1e9);
        assertEquals(1.0, GpuCommand.gigabytesPerSecond(oneGigabyteASecond), 1e-9);
    }

    @Test
    void baselineAndCudaIpcCombinationsThatCannotWorkAreUsageErrors() {
        CliRun noPeer = CliRun.of("gpu", "--provider", "shm", "--baseline-binary", "/b");
        assertEquals(2, noPeer.exitCode(), noPeer.err());
        assertTrue(noPeer.err().contains("--baseline-binary") && noPeer.err().contains("--peer-process"), noPeer.err());
        CliRun loopback = CliRun.of("gpu", "--peer-process", "--baseline-binary", "/b");
        assertEquals(2, loopback.exitCode(), loopback.err());
        assertTrue(loopback.err().contains("--provider shm"), loopback.err());
        CliRun both = CliRun.of("gpu", "--cuda-ipc", "both");
        assertEquals(2, both.exitCode(), both.err());
        assertTrue(both.err().contains("--cuda-ipc both needs --peer-process"), both.err());
        CliRun missing = CliRun.of("gpu", "--provider", "shm", "--peer-process", "--baseline-binary", "/no/such/fi_write_bench");
        assertEquals(1, missing.exitCode(), missing.err());
        assertTrue(missing.err().contains("not an executable file"), missing.err());
    }

    @Test
    void withoutAGpuTheBenchSaysSoOnceItsOptionsAreValid(@TempDir Path dir) throws IOException {
        assumeFalse(Cuda.isAvailable(), "a GPU is here");
        Path binary = dir.resolve("fi_write_bench");
        Files.writeString(binary, "#!/bin/sh\nexit 0\n");
        assertTrue(binary.toFile().setExecutable(true));
        CliRun r = CliRun.of("gpu", "--provider", "shm", "--peer-process", "--baseline-binary", binary.toString());
        assertEquals(1, r.exitCode(), r.err());
        assertTrue(r.err().contains("no usable GPU"), r.err());
    }
}
