package dev.transferengine.bench.baseline;

import dev.transferengine.bench.CliRun;
import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.cases.RateSample;
import dev.transferengine.cuda.Cuda;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The native baseline of {@code transfer-bench gpu} (fi_write_bench -P -D cuda:N) without a GPU: its command line,
 * the libfabric it is put on, the two-process mode on host memory over shm, and the one-line failure of
 * {@code -D cuda} where no CUDA driver is installed. The option checks of {@code gpu}: GpuCommandTest.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class GpuBaselineTest {

    /** The real fi_write_bench.c, built into {@code dir}. */
    private static NativeBaseline build(Path dir) throws IOException {
        Path source = dir.resolve("native").resolve(NativeBaseline.SOURCE_NAME);
        Files.createDirectories(source.getParent());
        Files.copy(NativeBaseline.findSource(null), source);
        return NativeBaseline.prepare(source, NativeBaseline.COMPILER, null);
    }

    @Test
    void twoProcessesAndDeviceMemoryBecomeDashPAndDashDCuda() {
        assertEquals(List.of("-p", "shm", "-P", "-D", "cuda:0"),
                new NativeBaseline.Settings("shm", null, false, true, false, false, true, 0).flags());
        // -D alone (FI_DELIVERY_COMPLETE) and -D cuda:N (device memory) side by side.
        assertEquals(List.of("-p", "tcp;ofi_rxm", "-n", "127.0.0.1", "-D", "-y", "-P", "-D", "cuda:3"),
                new NativeBaseline.Settings("tcp;ofi_rxm", "127.0.0.1", true, true, true, false, true, 3).flags());
        assertEquals(List.of("-p", "shm", "-H", "-P"),
                new NativeBaseline.Settings("shm", null, false, false, false, false, true,
                        NativeBaseline.Settings.HOST_MEMORY).flags());
        assertThrows(IllegalArgumentException.class,
                () -> new NativeBaseline.Settings("shm", null, false, false, false, false, true, 0));
        assertThrows(IllegalArgumentException.class,
                () -> new NativeBaseline.Settings("shm", null, false, true, false, false, true, -2));
    }

    @Test
    void theBaselineIsPreloadedWithTheLibfabricTheEngineIsPointedAt() {
        Map<String, String> props = Map.of("te.libfabric.library", "/kit/libfabric-cuda/lib/libfabric.so.1.20.0");
        Map<String, String> env = Map.of("TE_LIBFABRIC_LIBRARY", "/env/libfabric.so.1");
        assertEquals("/opt/x/libfabric.so.1", NativeBaseline.libfabricLibrary(
                Map.of("libfabric.library", " /opt/x/libfabric.so.1 "), props::get, env::get));
        assertEquals("/kit/libfabric-cuda/lib/libfabric.so.1.20.0",
                NativeBaseline.libfabricLibrary(Map.of(), props::get, env::get));
        assertEquals("/env/libfabric.so.1", NativeBaseline.libfabricLibrary(Map.of(), k -> null, env::get));
        assertNull(NativeBaseline.libfabricLibrary(Map.of(), k -> null, k -> null));

        assertEquals(Map.of(), NativeBaseline.libfabricEnvironment(null, "/x.so"));
        assertEquals(Map.of("LD_PRELOAD", "/lf.so"), NativeBaseline.libfabricEnvironment("/lf.so", null));
        assertEquals(Map.of("LD_PRELOAD", "/lf.so:/x.so"), NativeBaseline.libfabricEnvironment("/lf.so", "/x.so"));
    }

    @Test
    void theEnvironmentReachesTheBaselineProcess(@TempDir Path dir) throws IOException {
        // A stand-in baseline that answers only when LD_PRELOAD is what the bench set.
        Path binary = dir.resolve("fi_write_bench");
        Files.writeString(binary, "#!/bin/sh\n[ \"$LD_PRELOAD\" = /lf.so ] || { echo \"LD_PRELOAD=$LD_PRELOAD\" >&2; "
                + "exit 1; }\nprintf '1048576\\t10\\t0.001000\\t83.886\\t0.0100\\n'\n");
        assertTrue(binary.toFile().setExecutable(true));
        NativeBaseline baseline = NativeBaseline.prebuilt(binary);
        NativeBaseline.Settings gpu = new NativeBaseline.Settings("shm", null, false, true, false, false, true, 0);
        assertEquals(List.of(binary.toString(), "-p", "shm", "-P", "-D", "cuda:0", "-s", "1048576", "-u", "5", "-i",
                "10", "-w", "4"), baseline.command(gpu, 1 << 20, 5, 10, 4));
        assertEquals(new RateSample(1 << 20, 10, 0.001),
                baseline.run(gpu, 1 << 20, 5, 10, 4, Duration.ofSeconds(30), Map.of("LD_PRELOAD", "/lf.so")));
        BenchFailure f = assertThrows(BenchFailure.class,
                () -> baseline.run(gpu, 1 << 20, 5, 10, 4, Duration.ofSeconds(30), Map.of("LD_PRELOAD", "/other.so")));
        assertTrue(f.getMessage().contains("LD_PRELOAD=/other.so"), f.getMessage());
    }

    @Test
    void twoProcessModeWritesHostMemoryOverShm(@TempDir Path dir) throws IOException {
        assumeTrue(CliRun.canBuildBaseline(), "gcc or libfabric-dev missing");
        NativeBaseline baseline = build(dir);
        for (boolean twoProcesses : new boolean[] {false, true}) {
            NativeBaseline.Settings shm = new NativeBaseline.Settings("shm", null, false, true, true, false,
                    twoProcesses, NativeBaseline.Settings.HOST_MEMORY);
            RateSample s = baseline.run(shm, 65536, 20, 300, 16, Duration.ofSeconds(60));
            assertEquals(65536, s.bytes());
            assertEquals(300, s.ops());
            assertTrue(s.seconds() > 0, s.toString());
        }
    }

    @Test
    void deviceMemoryWithoutACudaDriverIsAOneLineFailure(@TempDir Path dir) throws IOException {
        assumeTrue(CliRun.canBuildBaseline(), "gcc or libfabric-dev missing");
        assumeFalse(Cuda.isAvailable(), "a GPU is here");
        NativeBaseline baseline = build(dir);
        NativeBaseline.Settings gpu = new NativeBaseline.Settings("shm", null, false, true, true, false, true, 0);
        BenchFailure f = assertThrows(BenchFailure.class,
                () -> baseline.run(gpu, 65536, 1, 10, 4, Duration.ofSeconds(60)));
        // No libcuda.so.1: exactly that; a driver without a device: cuInit's error, from the target process.
        assertTrue(f.getMessage().contains("libcuda.so.1") || f.getMessage().contains("cuInit"), f.getMessage());
        assertTrue(f.getMessage().contains("(exit 1)"), f.getMessage());
    }
}
