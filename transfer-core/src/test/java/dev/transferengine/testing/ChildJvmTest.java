package dev.transferengine.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The harness itself, on a small echoing child ({@link #main}). */
class ChildJvmTest {

    @Test
    void startsTheChildAsConfiguredAndTalksToItInLines(@TempDir Path dir) throws Exception {
        try (ChildJvm child = ChildJvm.builder(ChildJvmTest.class).jvmArgs("-Xmx64m").property("te.test.p", "v1")
                .env("TE_TEST_ENV", "e1").withoutEnv("PATH").directory(dir).args("a1", "a2")
                .quitLine("QUIT").deadline(Duration.ofSeconds(60)).start()) {
            String ready = child.expect("READY");
            assertEquals("v1", ChildJvm.field(ready, "p"), ready);
            assertEquals("e1", ChildJvm.field(ready, "env"), ready);
            assertEquals("null", ChildJvm.field(ready, "path"), ready);
            assertEquals(dir.toRealPath().toString(), ChildJvm.field(ready, "dir"), ready);
            assertEquals("a1,a2", ChildJvm.field(ready, "args"), ready);
            assertEquals("OUT hello", child.ask("ECHO hello", "OUT")); // the LOG line before it is skipped
            assertTrue(child.isAlive());
        }
    }

    @Test
    void waitsFailWithTheChildsNameAndStderrAndItsExitCodeIsReported() throws Exception {
        try (ChildJvm child = ChildJvm.builder(ChildJvmTest.class).jvmArgs("-Xmx64m")
                .deadline(Duration.ofSeconds(60)).start()) {
            child.expect("READY");
            AssertionError error = assertThrows(AssertionError.class, () -> child.ask("FAIL", "OUT"));
            assertTrue(error.getMessage().contains("ERROR as asked"), error::getMessage);
            assertTrue(error.getMessage().contains("ChildJvmTest (pid " + child.pid() + ")"), error::getMessage);
            assertTrue(error.getMessage().contains("a line on stderr"), error::getMessage);
            child.send("EXIT 3");
            assertEquals(3, child.awaitExit());
            error = assertThrows(AssertionError.class, () -> child.expect("OUT"));
            assertTrue(error.getMessage().contains("exited with 3"), error::getMessage);
            assertTrue(error.getMessage().contains("ended its output"), error::getMessage);
        }
        try (ChildJvm silent = ChildJvm.builder(ChildJvmTest.class).deadline(Duration.ofMillis(200)).start()) {
            AssertionError error = assertThrows(AssertionError.class, () -> silent.ask("SILENCE", "OUT"));
            assertTrue(error.getMessage().contains("gave no OUT within PT0.2S"), error::getMessage);
        }
    }

    @Test
    void killEndsTheChildAtOnce() throws Exception {
        try (ChildJvm child = ChildJvm.builder(ChildJvmTest.class).start()) {
            child.expect("READY");
            child.kill();
            assertFalse(child.isAlive());
        }
    }

    /** The child: READY with what it was given, then ECHO x (-> LOG, OUT x), FAIL, EXIT n, SILENCE, QUIT. */
    public static void main(String[] args) throws IOException {
        System.err.println("a line on stderr");
        System.out.println("READY p=" + System.getProperty("te.test.p") + " env=" + System.getenv("TE_TEST_ENV")
                + " path=" + System.getenv("PATH") + " dir=" + Path.of("").toAbsolutePath().toRealPath()
                + " args=" + String.join(",", args));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null && !line.equals("QUIT"); line = in.readLine()) {
            String[] w = line.split(" ", 2);
            switch (w[0]) {
                case "ECHO" -> System.out.println("LOG echoing\nOUT " + w[1]);
                case "FAIL" -> System.out.println("ERROR as asked");
                case "EXIT" -> System.exit(Integer.parseInt(w[1]));
                default -> {
                }
            }
        }
    }
}
