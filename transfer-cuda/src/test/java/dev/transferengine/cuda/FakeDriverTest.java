package dev.transferengine.cuda;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Builds {@code native-headers/cuda/fake_libcuda.c} into a shared library and runs {@link FakeDriverScenario}
 * in child JVMs pointed at it with {@code -Dte.cuda.library}: the binding's real downcalls (out-parameters,
 * pointer attributes of 4 and 8 bytes, the IPC handle by value, error names, the copy queue's ring) run on a
 * machine without a GPU. A child JVM because the driver is loaded and probed once per process. Skipped only
 * when gcc or {@code cuda.h} is absent.
 */
class FakeDriverTest {
    private static final Path SOURCE = Path.of(System.getProperty("basedir", "."))
            .resolve("../native-headers/cuda/fake_libcuda.c").normalize();
    private static final Path INCLUDE = Path.of(System.getProperty("te.cuda.include", "/usr/local/cuda/include"));

    private static Path library;

    @BeforeAll
    static void build(@TempDir Path dir) throws Exception {
        assumeTrue(Files.exists(INCLUDE.resolve("cuda.h")), INCLUDE.resolve("cuda.h") + " is absent");
        Result cc = run(Map.of(), "gcc", "-shared", "-fPIC", "-Wall", "-Werror", "-I" + INCLUDE, "-o",
                dir.resolve("libfakecuda.so").toString(), SOURCE.toString());
        assumeTrue(cc.exitCode != -1, "gcc is not installed");
        assertEquals(0, cc.exitCode, () -> "gcc failed:\n" + cc.output);
        library = dir.resolve("libfakecuda.so");
    }

    @Test
    void everyEntryPointWorksAgainstTheFakeDriver() throws Exception {
        Result r = child(Map.of());
        assertEquals(0, r.exitCode, r.output);
        assertTrue(r.output.contains(FakeDriverScenario.OK), r.output);
    }

    @Test
    void aBatchTheDriverRefusesIsLaunchedCopyByCopyWithTheSameBytes() throws Exception {
        Result normal = child(Map.of());
        assertTrue(!normal.output.contains("cuMemcpyBatchAsync of"), "no fallback when the batch works:\n"
                + normal.output);
        passesAndSays(Map.of("FAKE_CUDA_BATCH_ERROR", "1"), // CUDA_ERROR_INVALID_VALUE
                "cuMemcpyBatchAsync of 3 copies on device 0 failed (CUDA_ERROR_INVALID_VALUE");
    }

    @Test
    void aCopyKernelThatDoesNotLoadLeavesBatchesToTheCopyEngine() throws Exception {
        passesAndSays(Map.of("FAKE_CUDA_NO_KERNEL", "1"),
                "the copy kernel is off on device 0: loading te_copy_kernels.ptx failed");
    }

    /** The scenario passes in a child with {@code env} and its output contains {@code expected}. */
    private static void passesAndSays(Map<String, String> env, String expected) throws Exception {
        Result r = child(env);
        assertEquals(0, r.exitCode, r.output);
        assertTrue(r.output.contains(FakeDriverScenario.OK), r.output);
        assertTrue(r.output.contains(expected), r.output);
    }

    @Test
    void aFailingCuInitMakesCudaUnavailableWithTheDriversErrorName() throws Exception {
        Result r = child(Map.of("FAKE_CUDA_INIT_ERROR", "100"), "unavailable");
        assertEquals(0, r.exitCode, r.output);
        assertTrue(r.output.contains("cuInit(0)") && r.output.contains("CUDA_ERROR_NO_DEVICE")
                && r.output.contains("no CUDA-capable device is detected"), r.output);
    }

    private static Result child(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-Xmx128m", "-Dte.cuda.library=" + library,
                "-cp", System.getProperty("java.class.path"), FakeDriverScenario.class.getName()));
        cmd.addAll(List.of(args));
        return run(env, cmd.toArray(String[]::new));
    }

    private record Result(int exitCode, String output) {
    }

    private static Result run(Map<String, String> env, String... command) throws IOException, InterruptedException {
        Process p;
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().putAll(env);
            p = pb.start();
        } catch (IOException e) {
            return new Result(-1, e.toString());
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-2, "timed out: " + output);
        }
        return new Result(p.exitValue(), output);
    }
}
