package dev.transferengine.it;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The published modules work as named modules: a small application module ({@code src/test/app}, requiring
 * only {@code dev.transferengine.api}) is compiled against them and run in a child JVM with every
 * TransferEngine module on the module path and {@code --enable-native-access} naming exactly the modules
 * the README names. On JDK 24+ the child also runs with {@code --illegal-native-access=deny}, so a module
 * that calls a restricted method without being named fails the run instead of printing a warning.
 *
 * <p>Each run writes 64 KiB with imm 0xDEADBEEF between two engines and checks the bytes; it proves the
 * module descriptors (exports, {@code uses}/{@code provides}, service binding of core and the providers).
 */
class ModulePathSmokeTest {
    /** The modules an application puts on its module path (the BOM's, less the kits, which have no native code). */
    private static final List<String> ENGINE_MODULES = List.of("dev.transferengine.api", "dev.transferengine.cuda",
            "dev.transferengine.core", "dev.transferengine.efa", "dev.transferengine.verbs");
    private static final Pattern README_NATIVE_ACCESS =
            Pattern.compile("--enable-native-access=(dev\\.transferengine\\.[A-Za-z0-9_.,]+)");
    private static final int UNAVAILABLE = 77;
    private static final long CHILD_DEADLINE_SECONDS = 120;

    @TempDir
    static Path work;

    /** Libraries the engine modules require (automatic modules), which an application puts on its module path too. */
    private static final List<String> LIBRARY_MODULES = List.of("org.agrona");

    private static Map<String, Path> engineModules;
    private static Map<String, Path> libraryModules;
    private static List<String> readmeModules;
    private static Path app;

    @BeforeAll
    static void compileTheApplicationModule() throws IOException {
        engineModules = findOnClassPath(ENGINE_MODULES, false);
        libraryModules = findOnClassPath(LIBRARY_MODULES, true);
        readmeModules = readmeNativeAccessModules();
        app = work.resolve("app");
        List<String> args = new ArrayList<>(List.of("-d", app.toString(), "--module-path", modulePath(List.of()),
                "-Xlint:all,-path", "-Werror"));
        try (Stream<Path> sources = Files.walk(Path.of("src/test/app"))) {
            sources.filter(p -> p.toString().endsWith(".java")).forEach(p -> args.add(p.toString()));
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int rc = javac.run(null, diagnostics, diagnostics, args.toArray(String[]::new));
        assertEquals(0, rc, () -> "javac " + args + ":\n" + diagnostics.toString(StandardCharsets.UTF_8));
    }

    @Test
    void readmeNamesOnlyModulesThatExist() {
        assertFalse(readmeModules.isEmpty());
        for (String module : readmeModules) {
            assertTrue(engineModules.containsKey(module), () -> "README names " + module + ", which is no module of "
                    + ENGINE_MODULES);
        }
        assertTrue(readmeModules.containsAll(List.of("dev.transferengine.core", "dev.transferengine.efa",
                "dev.transferengine.verbs", "dev.transferengine.cuda")), () -> "README names " + readmeModules
                + ": the engine, both providers and the CUDA binding call native code");
    }

    @ParameterizedTest
    @ValueSource(strings = {"loopback", "tcp"})
    void aWriteWithImmLandsBetweenNamedModules(String provider) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "--module-path", modulePath(List.of(app)),
                "--enable-native-access=" + String.join(",", readmeModules)));
        if (Runtime.version().feature() >= 24) {
            cmd.add("--illegal-native-access=deny");
        }
        cmd.addAll(List.of("-m", "dev.transferengine.smoke/dev.transferengine.smoke.ModulePathSmoke", provider));
        Path log = work.resolve("child-" + provider + ".log");
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!child.waitFor(CHILD_DEADLINE_SECONDS, TimeUnit.SECONDS)) {
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail("the child JVM did not finish within " + CHILD_DEADLINE_SECONDS + " s:\n" + Files.readString(log));
        }
        String output = Files.readString(log);
        Assumptions.assumeFalse(child.exitValue() == UNAVAILABLE, () -> provider + " is unavailable here: " + output);
        assertEquals(0, child.exitValue(), () -> String.join(" ", cmd) + "\n" + output);
        assertTrue(output.contains("engine module: dev.transferengine.core\n"), output);
        assertTrue(output.contains("api module: dev.transferengine.api\n"), output);
        assertTrue(output.contains("provider modules: [dev.transferengine.api, dev.transferengine.core, "
                + "dev.transferengine.cuda, dev.transferengine.efa, dev.transferengine.smoke, dev.transferengine.verbs]"),
                output);
        assertTrue(output.contains("landed 65536 bytes with 2 imms of 3735928559"), output);
        // JDK 22-23 only warn about a restricted call from a module not named: no such warning either.
        assertFalse(output.contains("restricted method"), output);
        assertFalse(output.contains("Use --enable-native-access"), output);
    }

    /** The module-path form of the README's {@code --enable-native-access} (its other form is ALL-UNNAMED). */
    private static List<String> readmeNativeAccessModules() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        Matcher m = README_NATIVE_ACCESS.matcher(readme);
        assertTrue(m.find(), "README.md has no --enable-native-access=dev.transferengine... line");
        List<String> modules = List.of(m.group(1).split(","));
        assertFalse(m.find(), "README.md names module lists for --enable-native-access twice");
        return modules;
    }

    /**
     * Where each wanted module is on this JVM's class path: a jar, or a classes directory when Maven ran the
     * reactor only up to {@code test}. Either is a module on a module path (it has a module-info.class).
     */
    private static Map<String, Path> findOnClassPath(List<String> wanted, boolean automatic) {
        Map<String, Path> found = new LinkedHashMap<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry);
            if (!Files.exists(path)) {
                continue;
            }
            for (ModuleReference ref : ModuleFinder.of(path).findAll()) {
                String name = ref.descriptor().name();
                if (wanted.contains(name) && ref.descriptor().isAutomatic() == automatic) {
                    Path previous = found.put(name, path);
                    assertTrue(previous == null, () -> name + " twice on the class path: " + previous + ", " + path);
                }
            }
        }
        assertEquals(Set.copyOf(wanted), found.keySet(), "modules on the test class path");
        return found;
    }

    private static String modulePath(List<Path> extra) {
        return Stream.of(extra.stream(), engineModules.values().stream(), libraryModules.values().stream())
                .flatMap(m -> m).map(Path::toString)
                .collect(Collectors.joining(File.pathSeparator));
    }
}
