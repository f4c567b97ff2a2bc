package dev.transferengine.verbs;

import dev.transferengine.api.Access;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.testing.ChildJvm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The other process of {@link VerbsTwoProcessTest}: an engine on the verbs provider with one registered
 * region and persistent receives, driven by line commands on stdin, answering on stdout (one line per
 * command, prefixed so stray output cannot be mistaken for an answer):
 * <pre>
 *   (start)              -> "@READY &lt;main address hex&gt; &lt;region descriptor hex&gt;"
 *   COUNT imm            -> "@OK"          start counting imm
 *   AWAIT imm n          -> "@OK" | "@ERR msg"   wait (60 s) until imm arrived n times
 *   CRC offset length    -> "@CRC value"   CRC32 of region bytes
 *   MESSAGE              -> "@MSG length crc" of the next received message (60 s) | "@ERR msg"
 *   HALT                 -> exits at once without closing anything, like a crash
 * </pre>
 * End of input closes the engine and exits. The parent's side: {@link #start}, {@link #answer}, {@link #call}.
 */
public final class ReceiverProcessMain {
    static final int REGION_BYTES = 1 << 20;
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** For the parent: JVM start-up in the guest takes seconds; a command's own wait is at most 60 s. */
    static final Duration DEADLINE = Duration.ofSeconds(120);

    private ReceiverProcessMain() {
    }

    /** Starts a receiver in a child JVM (C1 only and the serial collector: the guest runs under TCG). */
    static ChildJvm start() throws IOException {
        return ChildJvm.builder(ReceiverProcessMain.class)
                .jvmArgs("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m")
                .deadline(DEADLINE).exitWait(DEADLINE).start();
    }

    /** The receiver's next answer, without its '@' (the first one is its READY line). */
    static String answer(ChildJvm receiver) {
        return receiver.expect("@").substring(1);
    }

    /** Sends {@code command} to the receiver and returns its answer; an ERR answer fails the test. */
    static String call(ChildJvm receiver, String command) {
        String a = receiver.ask(command, "@").substring(1);
        if (a.startsWith("ERR")) {
            fail(receiver + ": " + command + " -> " + a + "; stderr:\n" + receiver.stderrTail());
        }
        return a;
    }

    public static void main(String[] args) throws Exception {
        LinkedBlockingQueue<byte[]> messages = new LinkedBlockingQueue<>();
        Map<Integer, ImmCounter> counters = new HashMap<>();
        try (Arena arena = Arena.ofShared();
             TransferEngine engine = TransferEngine.builder().provider("verbs").groups(1, 1).name("receiver").build()) {
            MemorySegment memory = arena.allocate(REGION_BYTES, 4096);
            MemoryRegion region = engine.register(memory, Access.REMOTE_WRITE);
            engine.postReceives(4096, 4, m -> messages.add(m.toArray(JAVA_BYTE)));
            System.out.println("@READY " + engine.mainAddress().toHex() + " " + region.descriptor().toHex());
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                String[] w = line.trim().split("\\s+");
                String answer;
                try {
                    answer = switch (w[0]) {
                        case "COUNT" -> {
                            counters.put(Integer.parseInt(w[1]), engine.immCounter(Integer.parseInt(w[1])));
                            yield "@OK";
                        }
                        case "AWAIT" -> {
                            counters.get(Integer.parseInt(w[1])).await(Long.parseLong(w[2]), WAIT);
                            yield "@OK";
                        }
                        case "CRC" -> "@CRC " + crc(memory.asSlice(Long.parseLong(w[1]), Long.parseLong(w[2])));
                        case "MESSAGE" -> {
                            byte[] m = messages.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
                            yield m == null ? "@ERR no message within " + WAIT : "@MSG " + m.length + " " + crc(m);
                        }
                        case "HALT" -> {
                            Runtime.getRuntime().halt(0);
                            yield "@ERR unreachable";
                        }
                        default -> "@ERR unknown command " + w[0];
                    };
                } catch (RuntimeException e) {
                    answer = "@ERR " + e;
                }
                System.out.println(answer);
                System.out.flush();
            }
        }
    }

    static long crc(MemorySegment s) {
        return crc(s.toArray(JAVA_BYTE));
    }

    static long crc(byte[] bytes) {
        CRC32 c = new CRC32();
        c.update(bytes);
        return c.getValue();
    }
}
