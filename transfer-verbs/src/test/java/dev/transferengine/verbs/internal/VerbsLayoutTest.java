package dev.transferengine.verbs.internal;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compiles {@code native-headers/verbs/verbs_probe.c} with gcc against the installed
 * {@code <infiniband/verbs.h>} and checks every size, offset and constant it prints against the Java side.
 * Runs on the host (no RDMA device needed); skips with a reason when gcc or libibverbs-dev is missing.
 */
class VerbsLayoutTest {
    private static final Path HEADER = Path.of("/usr/include/infiniband/verbs.h");
    private static Map<String, Long> probe;

    @BeforeAll
    static void runProbe() throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isReadable(HEADER), "libibverbs-dev is not installed (no " + HEADER + ")");
        Path source = repositoryRoot().resolve("native-headers/verbs/verbs_probe.c");
        assertTrue(Files.isReadable(source), "probe source missing: " + source);
        Path out = Files.createDirectories(Path.of("target", "native-probes")).resolve("verbs_probe");
        Process gcc;
        try {
            gcc = new ProcessBuilder("gcc", "-O0", "-Wall", "-o", out.toString(), source.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("gcc is not installed: " + e.getMessage());
            return;
        }
        String gccOutput = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(gcc.waitFor(120, TimeUnit.SECONDS), "gcc timed out");
        assertEquals(0, gcc.exitValue(), "gcc failed:\n" + gccOutput);
        Process run = new ProcessBuilder(out.toString()).redirectErrorStream(true).start();
        String text = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(run.waitFor(60, TimeUnit.SECONDS), "probe timed out");
        assertEquals(0, run.exitValue(), "probe failed:\n" + text);
        probe = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                probe.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1).trim()));
            }
        }
    }

    /** The repository root: -Dte.repo.root, else the parent of the module directory Surefire runs in. */
    static Path repositoryRoot() {
        String root = System.getProperty("te.repo.root");
        return root != null ? Path.of(root) : Path.of("").toAbsolutePath().getParent();
    }

    @Test
    void everyProbedSizeOffsetAndConstantMatchesJava() throws IllegalAccessException {
        assertTrue(probe.size() > 150, "the probe printed only " + probe.size() + " values");
        Map<String, Long> constants = constants();
        List<String> mismatches = new ArrayList<>();
        for (Map.Entry<String, Long> e : probe.entrySet()) {
            Long java = javaValue(e.getKey(), constants);
            if (java == null) {
                mismatches.add(e.getKey() + ": no Java counterpart (C " + e.getValue() + ")");
            } else if (!java.equals(e.getValue())) {
                mismatches.add(e.getKey() + ": C " + e.getValue() + ", Java " + java);
            }
        }
        assertTrue(mismatches.isEmpty(), mismatches.size() + " layout mismatches:\n  " + String.join("\n  ", mismatches));
    }

    private static Long javaValue(String key, Map<String, Long> constants) {
        if (key.startsWith("sizeof.")) {
            GroupLayout l = IbvLayouts.BY_C_NAME.get(key.substring("sizeof.".length()));
            return l == null ? null : l.byteSize();
        }
        if (key.startsWith("sig.")) {
            return signatureValue(key);
        }
        switch (key) {
            case "verbs_context.query_port":
                return DeviceContext.VERBS_CONTEXT_QUERY_PORT;
            case "verbs_context.sz":
                return DeviceContext.VERBS_CONTEXT_SZ;
            case "verbs_context.min_sz_query_port":
                return DeviceContext.MIN_SZ_QUERY_PORT;
            default:
                break;
        }
        int dot = key.indexOf('.');
        if (dot > 0) {
            GroupLayout l = IbvLayouts.BY_C_NAME.get(key.substring(0, dot));
            if (l == null) {
                return null;
            }
            try {
                return IbvLayouts.offset(l, key.substring(dot + 1));
            } catch (IllegalArgumentException missingMember) {
                return null;
            }
        }
        return constants.get(key);
    }

    /** Exported functions whose C prototype the probe asserts; their Java descriptors must have the same sizes. */
    private static final Map<String, FunctionDescriptor> SIGNATURES = Map.of(
            "ibv_reg_dmabuf_mr", VerbsLibrary.REG_DMABUF_MR_DESCRIPTOR,
            "ibv_reg_mr_iova2", VerbsLibrary.REG_MR_IOVA2_DESCRIPTOR);

    /** {@code sig.<fn>.argc}, {@code sig.<fn>.ret}, {@code sig.<fn>.arg<N>} from the Java descriptor. */
    private static Long signatureValue(String key) {
        String[] parts = key.split("\\.");
        FunctionDescriptor fd = parts.length == 3 ? SIGNATURES.get(parts[1]) : null;
        if (fd == null) {
            return null;
        }
        String what = parts[2];
        if (what.equals("argc")) {
            return (long) fd.argumentLayouts().size();
        }
        if (what.equals("ret")) {
            return fd.returnLayout().map(MemoryLayout::byteSize).orElse(0L);
        }
        if (what.startsWith("arg")) {
            int i = Integer.parseInt(what.substring(3));
            return i < fd.argumentLayouts().size() ? fd.argumentLayouts().get(i).byteSize() : null;
        }
        return null;
    }

    @Test
    void probeCheckedTheDmabufSignature() {
        assertEquals(6L, probe.get("sig.ibv_reg_dmabuf_mr.argc"), "the probe asserts ibv_reg_dmabuf_mr's prototype");
        assertTrue(VerbsLibrary.BOUND_SYMBOLS.contains("ibv_reg_dmabuf_mr"));
    }

    /**
     * The call site of ibv_reg_dmabuf_mr ({@code ProtectionDomain.regDmabufMr}) against a stand-in handle of the
     * bound handle's type: a mismatch between the descriptor and the call site's static types throws
     * WrongMethodTypeException here instead of in the guest (this happened once with ibv_reg_mr_iova2).
     */
    @Test
    void dmabufCallSiteMatchesTheBoundHandlesType() throws Throwable {
        Assumptions.assumeTrue(VerbsLibrary.loadFailure() == null, "libibverbs1 is not installed");
        MethodType type = VerbsLibrary.REG_DMABUF_MR.type();
        assertEquals(Linker.nativeLinker().downcallHandle(VerbsLibrary.REG_DMABUF_MR_DESCRIPTOR,
                Linker.Option.captureCallState("errno")).type().dropParameterTypes(0, 1), type,
                "bound with errno capture: (state, pd, offset, length, iova, fd, access)");
        MethodHandle standIn = MethodHandles.dropArguments(
                MethodHandles.constant(MemorySegment.class, MemorySegment.ofAddress(0x1234)), 0, type.parameterList());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = ProtectionDomain.regDmabufMr(standIn, arena.allocate(VerbsLibrary.CALL_STATE),
                    MemorySegment.NULL, 0, 4096, 0x7f00_0000_0000L, 3, Ibv.IBV_ACCESS_LOCAL_WRITE);
            assertEquals(0x1234, r.address());
        }
    }

    @Test
    void pageSizeAndCloseComeFromLibc() {
        Assumptions.assumeTrue(VerbsLibrary.loadFailure() == null, "libibverbs1 is not installed");
        long page = VerbsLibrary.pageSize();
        assertTrue(page >= 4096 && Long.bitCount(page) == 1, "page size " + page);
        assertEquals(NativeErrors.EBADF, VerbsLibrary.close(-1), "close(-1) reports EBADF through errno capture");
    }

    private static Map<String, Long> constants() throws IllegalAccessException {
        Map<String, Long> m = new LinkedHashMap<>();
        for (Field f : Ibv.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class) {
                m.put(f.getName(), (long) f.getInt(null));
            }
        }
        return m;
    }

    @Test
    void libibverbsLoadsWithEveryBoundSymbol() {
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libibverbs.so.1"))
                || VerbsLibrary.loadFailure() == null, "libibverbs1 is not installed");
        assertNull(VerbsLibrary.loadFailure(), () -> "libibverbs failed to load: " + VerbsLibrary.loadFailure());
        for (String symbol : VerbsLibrary.BOUND_SYMBOLS) {
            assertTrue(VerbsLibrary.hasSymbol(symbol), symbol + " missing");
        }
    }

    @Test
    void completionStatusTextComesFromLibibverbs() {
        Assumptions.assumeTrue(VerbsLibrary.loadFailure() == null, "libibverbs1 is not installed");
        assertEquals("remote access error", VerbsLibrary.wcStatusString(Ibv.IBV_WC_REM_ACCESS_ERR));
        assertEquals("transport retry counter exceeded", VerbsLibrary.wcStatusString(Ibv.IBV_WC_RETRY_EXC_ERR));
    }
}
