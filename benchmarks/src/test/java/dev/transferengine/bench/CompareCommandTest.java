package dev.transferengine.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * transfer-bench compare: the row arithmetic, building and parsing the C baseline, and short end-to-end runs
 * on libfabric shm and tcp (skipped where gcc or libfabric's headers are missing).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CompareCommandTest {

    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = TransferBench.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static boolean canBuildBaseline() {
        return Files.isRegularFile(Path.of("/usr/include/rdma/fabric.h")) && onPath("gcc");
    }

    private static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void rowTakesMediansAndTheMedianOfPerRoundRatios() {
        // Round ratios (Java / C by time): 0.5, 2.0, 1.0 -> median 1.0, though the median times give 1.0 too.
        List<RateSample> c = List.of(new RateSample(1000, 100, 1.0), new RateSample(1000, 100, 4.0),
                new RateSample(1000, 100, 2.0));
        List<RateSample> java = List.of(new RateSample(1000, 100, 2.0), new RateSample(1000, 100, 2.0),
                new RateSample(1000, 100, 2.0));
        CompareRow row = new CompareRow(1000, 100, c, java);
        assertEquals(List.of(0.5, 2.0, 1.0), row.roundRatios());
        assertEquals(1.0, row.ratio(), 1e-12);
        assertEquals(1000 * 100 * 8 / 2.0 / 1e9, row.cGbps(), 1e-12);
        assertEquals(100 / 2.0 / 1e6, row.javaMops(), 1e-12);
        assertEquals(2.5, CompareRow.median(new double[] {4, 1, 2, 3}), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new CompareRow(1000, 100, c, java.subList(0, 2)));
    }

    @Test
    void libfabricFlagsFollowTheEnginesAutomaticChoiceUnlessGiven() {
        assertTrue(CompareCommand.flag("k", null, true));
        assertFalse(CompareCommand.flag("k", "auto", false));
        assertTrue(CompareCommand.flag("k", " TRUE", false));
        assertFalse(CompareCommand.flag("k", "false", true));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> CompareCommand.flag("libfabric.hmem", "sometimes", true));
        assertTrue(bad.getMessage().startsWith("libfabric.hmem must be true, false or auto"), bad.getMessage());

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

        assumeTrue(canBuildBaseline(), "gcc or libfabric-dev missing");
        BenchFailure broken = assertThrows(BenchFailure.class, () -> NativeBaseline.prepare(source, "gcc", null));
        assertTrue(broken.getMessage().contains("gcc failed to build"), broken.getMessage());
        assertFalse(Files.exists(NativeBaseline.binaryFor(source)));
    }

    @Test
    void theBinaryIsRebuiltOnlyWhenOlderThanItsSource(@TempDir Path dir) throws IOException {
        assumeTrue(canBuildBaseline(), "gcc or libfabric-dev missing");
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
        Run cli = run("compare", "--baseline-binary", missing.toString(), "--sizes", "64");
        assertNotEquals(0, cli.exitCode());
        assertTrue(cli.err().contains("not an executable file"), cli.err());
    }

    @Test
    void comparesBothSidesOnShmRoundByRound() {
        assumeTrue(canBuildBaseline(), "gcc or libfabric-dev missing");
        Run r = run("compare", "--provider", "shm", "--sizes", "4K,64K", "--rounds", "2", "--warmup", "10",
                "--iterations", "200", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonObject doc = JsonParser.parseString(r.out()).getAsJsonObject();
        JsonObject header = doc.getAsJsonObject("run");
        assertEquals("shm", header.get("libfabricProvider").getAsString());
        assertFalse(header.get("deliveryComplete").getAsBoolean());
        assertFalse(header.get("hmem").getAsBoolean());
        assertEquals("false", header.getAsJsonObject("javaOptions").get("libfabric.deliveryComplete").getAsString());
        assertEquals("false", header.getAsJsonObject("javaOptions").get("libfabric.hmem").getAsString());
        assertTrue(header.get("baseline").getAsString().endsWith("fi_write_bench -p shm -H -y"),
                header.get("baseline").getAsString());
        JsonArray rows = doc.getAsJsonArray("results");
        assertEquals(2, rows.size());
        long[] sizes = {4096, 65536};
        for (int i = 0; i < 2; i++) {
            JsonObject row = rows.get(i).getAsJsonObject();
            assertEquals(sizes[i], row.get("bytes").getAsLong());
            for (String side : new String[] {"c", "java"}) {
                JsonArray samples = row.getAsJsonArray(side);
                assertEquals(2, samples.size(), side);
                for (int k = 0; k < 2; k++) {
                    assertEquals(200, samples.get(k).getAsJsonObject().get("ops").getAsLong(), side);
                    assertEquals(sizes[i], samples.get(k).getAsJsonObject().get("bytes").getAsLong(), side);
                }
            }
            assertTrue(row.get("ratio").getAsDouble() > 0, row.toString());
        }
        assertTrue(r.err().contains("round 2/2 64 KiB"), r.err());
    }

    @Test
    void comparesOnTcpWithDeliveryCompleteOnBothSidesAndPrintsATable() {
        assumeTrue(canBuildBaseline(), "gcc or libfabric-dev missing");
        Run r = run("compare", "--provider", "tcp", "--sizes", "64K", "--rounds", "1", "--warmup", "5",
                "--iterations", "100");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("libfabric 'tcp;ofi_rxm' on 127.0.0.1")
                && r.out().contains("delivery-complete on, FI_HMEM not asked, on both sides"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("64 KiB") && l.contains(" 100 ")), r.out());
    }

    @Test
    void invokerThreadingRunsTheJavaSideWithoutWorkerThreads() {
        assumeTrue(canBuildBaseline(), "gcc or libfabric-dev missing");
        Run r = run("compare", "--provider", "shm", "--threading", "invoker", "--sizes", "4K", "--rounds", "1",
                "--warmup", "5", "--iterations", "200", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonObject doc = JsonParser.parseString(r.out()).getAsJsonObject();
        assertTrue(doc.getAsJsonObject("run").get("idle").getAsString().startsWith("invoker"), r.out());
        JsonObject row = doc.getAsJsonArray("results").get(0).getAsJsonObject();
        assertEquals(200, row.getAsJsonArray("java").get(0).getAsJsonObject().get("ops").getAsLong(), r.out());
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith("cmp-")),
                "no worker or invoker thread outlives the run");
        Run bad = run("compare", "--threading", "shared");
        assertNotEquals(0, bad.exitCode());
        assertTrue(bad.err().contains("--threading must be dedicated or invoker"), bad.err());
    }

    @Test
    void badOptionsAreUsageErrors() {
        assertEquals(2, run("compare", "--provider", "loopback").exitCode());
        assertEquals(2, run("compare", "--window", "2000").exitCode());
        assertEquals(2, run("compare", "--rounds", "0").exitCode());
        assertEquals(2, run("compare", "--provider-option", "libfabric.deliveryComplete=maybe").exitCode());
    }
}
