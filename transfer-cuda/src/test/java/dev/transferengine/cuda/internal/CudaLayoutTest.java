package dev.transferengine.cuda.internal;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Compiles {@code native-headers/cuda/cuda_probe.c} with gcc against the CUDA toolkit's {@code cuda.h} (no
 * driver needed) and compares, in both directions, every constant with {@link CudaConst}, the size of
 * {@code CUipcMemHandle} with {@link CudaLayouts}, and the exported symbol each documented function name
 * resolves to with {@link CudaFunction#symbol()}. Skipped, with the reason, only when gcc or {@code cuda.h}
 * is absent.
 */
class CudaLayoutTest {
    private static final Path PROBE = Path.of(System.getProperty("basedir", "."))
            .resolve("../native-headers/cuda/cuda_probe.c").normalize();
    private static final Path INCLUDE = Path.of(System.getProperty("te.cuda.include", "/usr/local/cuda/include"));

    private static Map<String, String> probe;

    @BeforeAll
    static void compileAndRunProbe(@TempDir Path dir) throws IOException, InterruptedException {
        assumeTrue(run(dir, "gcc", "--version").exitCode == 0, "gcc is not installed");
        assumeTrue(Files.exists(INCLUDE.resolve("cuda.h")), INCLUDE.resolve("cuda.h")
                + " is absent: install the CUDA toolkit headers or set -Dte.cuda.include");
        assertTrue(Files.exists(PROBE), "probe source missing: " + PROBE);
        Path exe = dir.resolve("cuda_probe");
        Result cc = run(dir, "gcc", "-Wall", "-Werror", "-I" + INCLUDE, "-o", exe.toString(), PROBE.toString());
        assertEquals(0, cc.exitCode, () -> "gcc failed (a symbol the binding uses is not declared?):\n" + cc.output);
        Result out = run(dir, exe.toString());
        assertEquals(0, out.exitCode, () -> "probe failed:\n" + out.output);
        probe = new LinkedHashMap<>();
        for (String line : out.output.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                probe.put(line.substring(0, eq), line.substring(eq + 1).trim());
            }
        }
        System.out.println("cuda.h CUDA_VERSION=" + probe.get("header.CUDA_VERSION"));
    }

    @Test
    void everyConstantMatchesTheHeader() throws IllegalAccessException {
        List<String> mismatches = new ArrayList<>();
        TreeSet<String> javaKeys = new TreeSet<>();
        for (Class<?> group : CudaConst.GROUPS) {
            for (Field f : group.getDeclaredFields()) {
                boolean constant = Modifier.isStatic(f.getModifiers()) && Modifier.isFinal(f.getModifiers());
                if (constant && (f.getName().startsWith("CU_") || f.getName().startsWith("CUDA_"))) {
                    compare(mismatches, javaKeys, "const." + f.getName(), Long.toString(((Number) f.get(null)).longValue()));
                }
            }
        }
        assertTrue(mismatches.isEmpty(), () -> "constants differ from cuda.h:\n" + String.join("\n", mismatches));
        assertNothingUnchecked("const.", javaKeys);
        assertTrue(javaKeys.size() >= 35, "checked " + javaKeys.size() + " constants");
    }

    @Test
    void ipcHandleIsA64ByteStruct() {
        assertEquals(Long.parseLong(probe.get("sizeof.CUipcMemHandle")), CudaLayouts.IPC_MEM_HANDLE.byteSize());
        assertEquals(64, CudaLayouts.IPC_MEM_HANDLE.byteSize());
    }

    /** {@code cuMemcpyBatchAsync}'s attribute struct: its size and every field's offset. */
    @Test
    void memcpyAttributesMatchTheHeaderFieldByField() {
        var layout = CudaLayouts.MEMCPY_ATTRIBUTES;
        assertEquals(Long.parseLong(probe.get("sizeof.CUmemcpyAttributes")), layout.byteSize());
        for (String field : List.of("srcAccessOrder", "srcLocHint", "dstLocHint", "flags")) {
            assertEquals(Long.parseLong(probe.get("offsetof.CUmemcpyAttributes." + field)),
                    layout.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement(field)), field);
        }
    }

    /** The symbol looked up for each function is what cuda.h's macros make of its documented name. */
    @Test
    void everySymbolIsWhatTheHeaderResolvesItsNameTo() {
        List<String> mismatches = new ArrayList<>();
        TreeSet<String> javaKeys = new TreeSet<>();
        for (CudaFunction f : CudaFunction.values()) {
            compare(mismatches, javaKeys, "symbol." + f.name(), f.symbol());
        }
        assertTrue(mismatches.isEmpty(), () -> "symbols differ from cuda.h:\n" + String.join("\n", mismatches));
        assertNothingUnchecked("symbol.", javaKeys);
    }

    @Test
    void onlyTheQueriesSkipTheThreadStateTransition() {
        for (CudaFunction f : CudaFunction.values()) {
            boolean query = f == CudaFunction.cuEventQuery || f == CudaFunction.cuStreamQuery;
            assertEquals(query, f.critical(), f + ": only short non-blocking queries may be critical");
            assertEquals(f == CudaFunction.cuMemcpyBatchAsync, f.optional(), f + ": only the batch copy is optional");
        }
    }

    private static void assertNothingUnchecked(String prefix, TreeSet<String> javaKeys) {
        TreeSet<String> unused = new TreeSet<>();
        for (String k : probe.keySet()) {
            if (k.startsWith(prefix) && !javaKeys.contains(k)) {
                unused.add(k);
            }
        }
        assertTrue(unused.isEmpty(), () -> "the probe prints entries the Java side lacks: " + unused);
    }

    private static void compare(List<String> mismatches, TreeSet<String> seen, String key, String javaValue) {
        seen.add(key);
        String c = probe.get(key);
        if (c == null) {
            mismatches.add(key + ": missing from the probe (add it to cuda_probe.c)");
        } else if (!c.equals(javaValue)) {
            mismatches.add(key + ": cuda.h says " + c + ", Java says " + javaValue);
        }
    }

    private record Result(int exitCode, String output) {
    }

    private static Result run(Path dir, String... command) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Result(-1, e.getMessage());
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out: " + String.join(" ", command));
        }
        return new Result(p.exitValue(), output);
    }
}
