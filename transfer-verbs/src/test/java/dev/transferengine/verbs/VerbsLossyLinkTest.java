package dev.transferengine.verbs;

import dev.transferengine.api.Access;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 9 (verbs): RC over a lossy link in the Soft-RoCE guest. The same 32 MiB (128 imm writes of 256 KiB,
 * two engines, one NIC) moves once over the clean link and once with {@code netem loss 2% delay 1ms}; both times
 * every byte must land and every imm arrive exactly once (RC retransmits what netem drops), and netem must have
 * dropped packets (else the loss never touched rxe's traffic and the test proves nothing). Prints the throughput
 * of both runs; asserts no timing. Skips with the reason where {@code sch_netem} cannot be loaded.
 *
 * <p>Two endpoints on the same GID never reach a qdisc: rxe hands a packet whose source and destination address
 * are equal straight to its own receive path. So the target engine gets a second address on eth0 (its own
 * RoCE v2 GID, chosen with {@code verbs.gidIndex}); packets between two local addresses go through the kernel's
 * IP stack and the loopback device, where netem sits.
 */
@Tag(SoftRoce.TAG)
class VerbsLossyLinkTest {
    static final int WRITE = 256 * 1024;
    static final int COUNT = 128;
    static final String LOSS = "loss 2% delay 1ms";
    /** Traffic between two local addresses leaves through the loopback device. */
    static final List<String> INTERFACES = List.of("lo");
    static final String WRITER_IP = "10.0.2.15";
    static final String TARGET_IP = "10.0.2.16";

    @Test
    void everyByteLandsOverALossyLinkAndRcRetransmitsWhatWasDropped() throws Exception {
        SoftRoce.requireDevice();
        Exec added = exec("ip", "addr", "add", TARGET_IP + "/24", "dev", "eth0");
        Assumptions.assumeTrue(added.status() == 0, added::toString);
        try (Arena arena = Arena.ofShared();
             TransferEngine target = engine("lossy-target", roceV2GidIndex(TARGET_IP));
             TransferEngine writer = engine("lossy-writer", roceV2GidIndex(WRITER_IP))) {
            long bytes = (long) WRITE * COUNT;
            MemorySegment srcMemory = arena.allocate(bytes, 4096);
            MemorySegment dstMemory = arena.allocate(bytes, 4096);
            MemoryRegion src = writer.register(srcMemory, Access.LOCAL);
            RemoteRegion dst = target.register(dstMemory, Access.REMOTE_WRITE).descriptor();
            // connect first, so that the handshake (UD, also subject to the loss) is not part of either figure
            writer.submit(SingleWrite.of(src, 0, 4096, dst, 0)).get(120, TimeUnit.SECONDS);

            double cleanMBps = moveAndVerify(writer, target, src, srcMemory, dst, dstMemory, 1, 0x4C00_0001);
            String netem = addNetem();
            Assumptions.assumeTrue(netem == null, () -> "netem unavailable in this guest: " + netem);
            double lossyMBps;
            long dropped = 0;
            StringBuilder stats = new StringBuilder();
            try {
                lossyMBps = moveAndVerify(writer, target, src, srcMemory, dst, dstMemory, 2, 0x4C00_0002);
                for (String dev : INTERFACES) {
                    String s = exec("tc", "-s", "qdisc", "show", "dev", dev).output();
                    stats.append(dev).append(": ").append(s.replace('\n', ' ').trim()).append('\n');
                    Matcher m = Pattern.compile("dropped (\\d+)").matcher(s);
                    if (m.find()) {
                        dropped += Long.parseLong(m.group(1));
                    }
                }
            } finally {
                for (String dev : INTERFACES) {
                    exec("tc", "qdisc", "del", "dev", dev, "root");
                }
            }
            System.out.printf("VerbsLossyLinkTest: %d x %d KiB imm writes, 1 NIC: clean %.1f MB/s, with netem %s"
                            + " %.1f MB/s (ratio %.2f), %d packets dropped by netem%n%s", COUNT, WRITE / 1024,
                    cleanMBps, LOSS, lossyMBps, lossyMBps / cleanMBps, dropped, stats);
            assertTrue(dropped > 0, () -> "netem dropped nothing: rxe's packets did not pass it\n" + stats);
        } finally {
            exec("ip", "addr", "del", TARGET_IP + "/24", "dev", "eth0");
        }
    }

    private static TransferEngine engine(String name, int gidIndex) {
        return TransferEngine.builder().provider("verbs").groups(1, 1).name(name)
                .providerOption("verbs.gidIndex", Integer.toString(gidIndex))
                .transferTimeout(Duration.ofSeconds(240)).build();
    }

    /**
     * The index of the RoCE v2 GID {@code ::ffff:ip} on the guest's (only) RDMA device, port 1, waiting up to
     * 20 s for it to appear after the address was added.
     */
    private static int roceV2GidIndex(String ip) throws IOException, InterruptedException {
        String[] o = ip.split("\\.");
        String wanted = String.format("0000:0000:0000:0000:0000:ffff:%02x%02x:%02x%02x", Integer.parseInt(o[0]),
                Integer.parseInt(o[1]), Integer.parseInt(o[2]), Integer.parseInt(o[3]));
        Path port;
        try (var devices = Files.list(Path.of("/sys/class/infiniband"))) {
            port = devices.findFirst().orElseThrow().resolve("ports/1");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        do {
            for (int i = 0; i < 64; i++) {
                Path gid = port.resolve("gids/" + i);
                Path type = port.resolve("gid_attrs/types/" + i);
                try {
                    if (Files.readString(gid).trim().equals(wanted) && Files.readString(type).trim().equals("RoCE v2")) {
                        return i;
                    }
                } catch (IOException e) {
                    // an empty slot reads as an error (EINVAL); keep looking
                }
            }
            Thread.sleep(100);
        } while (System.nanoTime() - deadline < 0);
        throw new AssertionError("no RoCE v2 GID for " + ip + " under " + port);
    }

    /** Writes COUNT fresh random chunks with imm, waits for all, checks bytes and imm count. @return MB/s */
    private static double moveAndVerify(TransferEngine writer, TransferEngine target, MemoryRegion src,
                                        MemorySegment srcMemory, RemoteRegion dst, MemorySegment dstMemory,
                                        long seed, int imm) throws Exception {
        byte[] random = new byte[(int) srcMemory.byteSize()];
        new Random(seed).nextBytes(random);
        MemorySegment.copy(random, 0, srcMemory, JAVA_BYTE, 0, random.length);
        dstMemory.fill((byte) 0);
        ImmCounter counter = target.immCounter(imm);
        CompletableFuture<?>[] writes = new CompletableFuture<?>[COUNT];
        long start = System.nanoTime();
        for (int i = 0; i < COUNT; i++) {
            long off = (long) i * WRITE;
            writes[i] = writer.submit(SingleWrite.withImm(src, off, WRITE, dst, off, imm));
        }
        CompletableFuture.allOf(writes).get(300, TimeUnit.SECONDS);
        long nanos = System.nanoTime() - start;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (counter.arrived() < COUNT && System.nanoTime() - deadline < 0) {
            Thread.sleep(1);
        }
        Thread.sleep(200); // a duplicate imm, if any, would arrive meanwhile
        assertEquals(COUNT, counter.arrived(), "imms of round " + seed);
        assertEquals(-1, dstMemory.mismatch(srcMemory), "bytes of round " + seed);
        return srcMemory.byteSize() / 1e6 / (nanos / 1e9);
    }

    /** Loads sch_netem and adds the lossy qdisc to every interface. @return null, or why it could not */
    private static String addNetem() throws IOException, InterruptedException {
        Exec modprobe = exec("modprobe", "sch_netem");
        for (String dev : INTERFACES) {
            Exec tc = exec("tc", "qdisc", "replace", "dev", dev, "root", "netem", "loss", "2%", "delay", "1ms");
            if (tc.status() != 0) {
                return tc + " (" + modprobe + ")";
            }
        }
        return null;
    }

    /** What a guest tool printed (stdout and stderr) and its exit status. */
    private record Exec(String command, int status, String output) {
        @Override
        public String toString() {
            return command + " exited " + status + ": " + output.trim();
        }
    }

    /** Runs a guest tool (looked up in the sbin directories: the fork's PATH may lack them). */
    private static Exec exec(String... command) throws IOException, InterruptedException {
        String[] cmd = command.clone();
        for (String dir : List.of("/usr/sbin/", "/sbin/", "/usr/bin/")) {
            if (Files.isExecutable(Path.of(dir + cmd[0]))) {
                cmd[0] = dir + cmd[0];
                break;
            }
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Exec(String.join(" ", cmd), -1, "timed out");
        }
        return new Exec(String.join(" ", cmd), p.exitValue(), out);
    }
}
