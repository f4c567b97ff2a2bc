package dev.transferengine.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The copy kernel's PTX resource matches what the launcher passes ({@link CudaCopyKernel}: the entry's name and a
 * 3 x 8 x MAX_COPIES byte parameter), and, where the nvcc that wrote it is installed, is what its source compiles to
 * today (scripts/gen-ptx.sh was run after the last change to te_copy_kernels.cu).
 */
class CopyKernelPtxTest {
    private static final Path SOURCE = Path.of(System.getProperty("basedir", "."))
            .resolve("src/main/cuda/te_copy_kernels.cu");
    private static final Path NVCC = Path.of(System.getProperty("te.cuda.nvcc", "/usr/local/cuda/bin/nvcc"));

    @Test
    void theEntryAndItsParameterAreWhatTheLauncherPasses() throws IOException {
        String ptx = resource();
        assertTrue(ptx.contains(".visible .entry te_batch_copy("), "entry point");
        assertTrue(ptx.contains(".param .align 8 .b8 te_batch_copy_param_0[" + 3 * 8 * CudaCopyKernel.MAX_COPIES
                + "]"), "one by-value parameter of dst[], src[], len[] of MAX_COPIES each");
        assertTrue(Files.readString(SOURCE).contains("#define TE_MAX_COPIES " + CudaCopyKernel.MAX_COPIES));
    }

    @Test
    void thePtxIsWhatTheSourceCompilesTo(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isExecutable(NVCC), NVCC + " is absent");
        String committed = resource();
        String version = run(NVCC.toString(), "--version");
        String release = committed.lines().filter(l -> l.startsWith("// Cuda compilation tools")).findFirst()
                .orElseThrow().substring(3);
        assumeTrue(version.contains(release), "the PTX was written by another nvcc (" + release + ")");
        Path out = dir.resolve("k.ptx");
        run(NVCC.toString(), "-ptx", "-arch=compute_75", "-o", out.toString(), SOURCE.toString());
        assertEquals(committed, Files.readString(out), "run scripts/gen-ptx.sh after changing te_copy_kernels.cu");
    }

    private static String resource() throws IOException {
        try (InputStream in = CudaCopyKernel.class.getResourceAsStream("te_copy_kernels.ptx")) {
            assertNotNull(in, "te_copy_kernels.ptx on the class path");
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
        assertEquals(0, p.exitValue(), output);
        return output;
    }
}
