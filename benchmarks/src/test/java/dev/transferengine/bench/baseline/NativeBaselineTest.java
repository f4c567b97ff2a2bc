package dev.transferengine.bench.baseline;

import dev.transferengine.bench.CliRun;
import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.cases.RateSample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The C baseline of {@code transfer-bench compare}: the fi_write_bench flags its settings give, reading its result
 * line, building it (only when stale; skipped where gcc or libfabric's headers are missing) and running a prebuilt
 * binary as it is.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class NativeBaselineTest {

    @Test
    void compareSettingsBecomeFiWriteBenchFlags() {
        NativeBaseline.Settings tcp = new NativeBaseline.Settings("tcp;ofi_rxm", "127.0.0.1", true, false, true);
        assertEquals(List.of("-p", "tcp;ofi_rxm", "-n", "127.0.0.1", "-D", "-H", "-y"), tcp.flags());
        assertEquals(List.of("-p", "shm"), new NativeBaseline.Settings("shm", null, false, true, false).flags());
    }

    @Test
    void baselineOutputIsParsedForTheRequestedSizeOnly() {
        RateSample s = NativeBaseline.parse("64\t2000\t0.002000\t0.512\t1.0000\n65536\t10\t1.0\t0.005\t0.00001\n", 65536);
        assertEquals(new RateSample(65536, 10, 1.0), s);
        BenchFailure none = assertThrows(BenchFailure.class, () -> NativeBaseline.parse("64\t1\t1.0\t0\t0\n", 128));
        assertTrue(none.getMessage().contains("no result for 128 bytes"), none.getMessage());
    }

    @Test
    void aMissingCompilerOrABrokenSourceIsAClearFailure(@TempDir Path dir) throws IOException {
        Path source = dir.resolve("native").resolve(NativeBaseline.SOURCE_NAME);
        Files.createDirectories(source.getParent());
        Files.writeString(source, "int main(void) { return 0 }\n");   // missing semicolon

        BenchFailure noCompiler = assertThrows(BenchFailure.class,
                () -> NativeBaseline.prepare(source, "no-such-compiler-here", null));
        assertTrue(noCompiler.getMessage().contains("no-such-compiler-here was not found")
                && noCompiler.getMessage().contains("apt-get install gcc libfabric-dev"), noCompiler.getMessage());

        assumeTrue(CliRun.canBuildBaseline(), "gcc or libfabric-dev missing");
        BenchFailure broken = assertThrows(BenchFailure.class, () -> NativeBaseline.prepare(source, "gcc", null));
        assertTrue(broken.getMessage().contains("gcc failed to build"), broken.getMessage());
        assertFalse(Files.exists(NativeBaseline.binaryFor(source)));
    }

    @Test
    void theBinaryIsRebuiltOnlyWhenOlderThanItsSource(@TempDir Path dir) throws IOException {
        assumeTrue(CliRun.canBuildBaseline(), "gcc or libfabric-dev missing");
        Path source = dir.resolve("native").resolve(NativeBaseline.SOURCE_NAME);
        Files.createDirectories(source.getParent());
        Files.writeString(source, "int main(void) { return 0; }\n");
        Path binary = NativeBaseline.binaryFor(source);
        assertEquals(dir.resolve("target").resolve(NativeBaseline.BINARY_NAME), binary);
        assertTrue(NativeBaseline.stale(source, binary));

        NativeBaseline.prepare(source, "gcc", null);
        assertFalse(NativeBaseline.stale(source, binary));
        FileTime built = Files.getLastModifiedTime(binary);
        // Up to date: a second prepare must not call the compiler (which does not exist).
        NativeBaseline.prepare(source, "no-such-compiler-here", null);
        assertEquals(built, Files.getLastModifiedTime(binary));

        Files.setLastModifiedTime(source, FileTime.from(Instant.now().plusSeconds(60)));
        assertTrue(NativeBaseline.stale(source, binary));
    }

    @Test
    void aPrebuiltBinaryIsRunAsItIsAndNeverRebuilt(@TempDir Path dir) throws IOException {
        // A "binary" older than a source next to it, on a machine where compiling could not work anyway.
        Path source = dir.resolve("native").resolve(NativeBaseline.SOURCE_NAME);
        Files.createDirectories(source.getParent());
        Files.writeString(source, "this would not compile\n");
        Path binary = NativeBaseline.binaryFor(source);
        Files.createDirectories(binary.getParent());
        Files.writeString(binary, "#!/bin/sh\nexit 0\n");
        binary.toFile().setExecutable(true);
        Files.setLastModifiedTime(binary, FileTime.from(Instant.now().minusSeconds(3600)));
        assertTrue(NativeBaseline.stale(source, binary), "prepare would rebuild it");
        FileTime before = Files.getLastModifiedTime(binary);

        assertEquals(binary, NativeBaseline.prebuilt(binary).binary());
        assertEquals(before, Files.getLastModifiedTime(binary), "not rebuilt");
        assertEquals("#!/bin/sh\nexit 0\n", Files.readString(binary));

        Path missing = dir.resolve("no-such-binary");
        BenchFailure e = assertThrows(BenchFailure.class, () -> NativeBaseline.prebuilt(missing));
        assertTrue(e.getMessage().contains("no-such-binary"), e.getMessage());
        CliRun cli = CliRun.of("compare", "--baseline-binary", missing.toString(), "--sizes", "64");
        assertNotEquals(0, cli.exitCode());
        assertTrue(cli.err().contains("not an executable file"), cli.err());
    }
}
