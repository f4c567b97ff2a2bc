package dev.transferengine.efa.internal;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
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
 * Compiles {@code native-headers/libfabric/fi_probe.c} with gcc against the installed libfabric headers and
 * compares every size, offset and constant it prints with {@link FiLayouts} and {@link FiConst}, in both
 * directions: nothing the Java side uses may be missing from the probe, and nothing the probe prints may be
 * missing from the Java side. Skipped (with the reason) only when gcc or the libfabric headers are absent;
 * CI installs both.
 */
class LibfabricLayoutTest {
    private static final Path PROBE = Path.of(System.getProperty("basedir", "."))
            .resolve("../native-headers/libfabric/fi_probe.c").normalize();

    private static Map<String, String> probe;

    @BeforeAll
    static void compileAndRunProbe(@TempDir Path dir) throws IOException, InterruptedException {
        assumeTrue(run(dir, "gcc", "--version").exitCode == 0, "gcc is not installed");
        assumeTrue(Files.exists(Path.of("/usr/include/rdma/fabric.h")),
                "libfabric headers are not installed (apt-get install libfabric-dev)");
        assertTrue(Files.exists(PROBE), "probe source missing: " + PROBE);
        Path exe = dir.resolve("fi_probe");
        Result cc = run(dir, "gcc", "-Wall", "-Werror", "-o", exe.toString(), PROBE.toString());
        assertEquals(0, cc.exitCode, () -> "gcc failed:\n" + cc.output);
        Result out = run(dir, exe.toString());
        assertEquals(0, out.exitCode, () -> "probe failed:\n" + out.output);
        probe = new LinkedHashMap<>();
        for (String line : out.output.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                probe.put(line.substring(0, eq), line.substring(eq + 1).trim());
            }
        }
    }

    @Test
    void everyStructSizeAndMemberOffsetMatchesTheHeaders() {
        List<String> mismatches = new ArrayList<>();
        TreeSet<String> javaKeys = new TreeSet<>();
        for (StructLayout layout : FiLayouts.ALL) {
            String name = layout.name().orElseThrow();
            compare(mismatches, javaKeys, "sizeof." + name, layout.byteSize());
            for (MemoryLayout member : layout.memberLayouts()) {
                if (member instanceof PaddingLayout || member.name().isEmpty()
                        || FiLayouts.OPAQUE_MEMBERS.contains(member.name().get())) {
                    continue;
                }
                String field = member.name().get();
                compare(mismatches, javaKeys, "offsetof." + name + "." + field, FiLayouts.offset(layout, field));
                if (member instanceof GroupLayout nested) {
                    assertEquals(nested.byteSize(), Long.parseLong(probe.get("sizeof." + nested.name().orElse(field))),
                            "nested " + field);
                }
            }
        }
        assertTrue(mismatches.isEmpty(), () -> "layouts differ from the headers:\n" + String.join("\n", mismatches));
        TreeSet<String> unused = new TreeSet<>();
        for (String k : probe.keySet()) {
            if ((k.startsWith("sizeof.") || k.startsWith("offsetof.")) && !javaKeys.contains(k)) {
                unused.add(k);
            }
        }
        assertTrue(unused.isEmpty(), () -> "the probe prints members no Java layout has: " + unused);
        assertTrue(javaKeys.size() > 250, "checked " + javaKeys.size() + " sizes and offsets");
    }

    @Test
    void everyConstantMatchesTheHeaders() throws IllegalAccessException {
        List<String> mismatches = new ArrayList<>();
        TreeSet<String> javaKeys = new TreeSet<>();
        for (Class<?> group : FiConst.GROUPS) {
            for (Field f : group.getDeclaredFields()) {
                boolean constant = Modifier.isStatic(f.getModifiers()) && Modifier.isFinal(f.getModifiers());
                if (!constant || !(f.getName().startsWith("FI_") || f.getName().startsWith("SIG"))) {
                    continue;
                }
                long value = ((Number) f.get(null)).longValue();
                compare(mismatches, javaKeys, "const." + f.getName(), value);
            }
        }
        assertTrue(mismatches.isEmpty(), () -> "constants differ from the headers:\n" + String.join("\n", mismatches));
        TreeSet<String> unused = new TreeSet<>();
        for (String k : probe.keySet()) {
            if (k.startsWith("const.") && !javaKeys.contains(k)) {
                unused.add(k);
            }
        }
        assertTrue(unused.isEmpty(), () -> "the probe prints constants FiConst lacks: " + unused);
        assertEquals(FiConst.Version.API, (FiConst.Version.FI_MAJOR_VERSION << 16) | FiConst.Version.FI_MINOR_VERSION);
    }

    @Test
    void loadingLibfabricLeavesSigsegvWithTheJvm() {
        LibfabricLibrary lib = LibfabricLibrary.load(null);
        assertTrue(SignalHandlers.owner(FiConst.Sig.SIGSEGV).contains("libjvm"),
                () -> "SIGSEGV handler lives in " + SignalHandlers.owner(FiConst.Sig.SIGSEGV));
        assertTrue(SignalHandlers.owner(FiConst.Sig.SIGBUS).contains("libjvm"));
        assertTrue(lib.version() >= FiConst.Version.API, "libfabric " + Integer.toHexString(lib.version())
                + " is older than the 1.17 API the layouts were written for");
        assertEquals("Resource temporarily unavailable", lib.strerror(FiConst.Err.FI_EAGAIN));
    }

    private static void compare(List<String> mismatches, TreeSet<String> seen, String key, long javaValue) {
        seen.add(key);
        String c = probe.get(key);
        if (c == null) {
            mismatches.add(key + ": missing from the probe (add it to fi_probe.c)");
        } else if (Long.parseUnsignedLong(c) != javaValue) {
            mismatches.add(key + ": C says " + c + ", Java says " + Long.toUnsignedString(javaValue));
        }
    }

    private record Result(int exitCode, String output) {
    }

    private static Result run(Path dir, String... command) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
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
