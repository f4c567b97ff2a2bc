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
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 9 (verbs): RC over a lossy link in the Soft-RoCE guest. The same 10 MiB (40 imm writes of 256 KiB,
 * two engines, one NIC each) moves once over a clean wire and once with {@code netem loss 2% delay 1ms} on both
 * ends; both times every byte must land and every imm arrive exactly once (RC retransmits what netem drops), and
 * netem must have dropped packets (else the loss never touched the traffic and the test proves nothing).
 * Prints the throughput of both runs; asserts no timing.
 *
 * <p><b>The wire.</b> Two endpoints of one rxe device never reach a qdisc: rxe hands a packet whose destination
 * MAC is its own device's straight to its receive path, and traffic between two local addresses is routed through
 * {@code lo}, whose packets rxe drops (no rxe on {@code lo}). So the guest gets two extra NICs joined by a QEMU
 * hub ({@code SOFTROCE_QEMU_EXTRA}, set by the pom's softroce profile): the test puts 10.0.3.1 on eth1 and
 * 10.0.3.2 on eth2, an rxe device on each, and policy routes that send locally generated traffic between the two
 * addresses out of the NIC that owns the source (the {@code local} table moved behind them; {@code accept_local},
 * no reverse-path filter, {@code arp_ignore=1}). Everything is undone at the end. Skips where the NICs are absent.
 */
@Tag(SoftRoce.TAG)
class VerbsLossyLinkTest {
    static final int WRITE = 256 * 1024;
    static final int COUNT = 40;
    static final String LOSS = "loss 2% delay 1ms";
    static final String WRITER_IF = "eth1";
    static final String TARGET_IF = "eth2";
    static final String WRITER_IP = "10.0.3.1";
    static final String TARGET_IP = "10.0.3.2";

    @Test
    void everyByteLandsOverALossyLinkAndRcRetransmitsWhatWasDropped() throws Exception {
        SoftRoce.requireDevice();
        Assumptions.assumeTrue(Files.exists(Path.of("/sys/class/net", TARGET_IF)), "no " + TARGET_IF + " in this"
                + " guest: the wire needs two extra NICs on a QEMU hub (SOFTROCE_QEMU_EXTRA, see the pom)");
        List<String[]> undo = new ArrayList<>();
        try {
            buildWire(undo);
            int writerGid = roceV2GidIndex("rxe1", WRITER_IP);
            int targetGid = roceV2GidIndex("rxe2", TARGET_IP);
            try (Arena arena = Arena.ofShared();
                 TransferEngine target = engine("lossy-target", "rxe2", targetGid);
                 TransferEngine writer = engine("lossy-writer", "rxe1", writerGid)) {
                moveOverTheWire(arena, writer, target, undo);
            }
        } finally {
            for (int i = undo.size() - 1; i >= 0; i--) {
                exec(undo.get(i));
            }
        }
    }

    private static void moveOverTheWire(Arena arena, TransferEngine writer, TransferEngine target,
                                        List<String[]> undo) throws Exception {
        long bytes = (long) WRITE * COUNT;
        MemorySegment srcMemory = arena.allocate(bytes, 4096);
        MemorySegment dstMemory = arena.allocate(bytes, 4096);
        MemoryRegion src = writer.register(srcMemory, Access.LOCAL);
        RemoteRegion dst = target.register(dstMemory, Access.REMOTE_WRITE).descriptor();
        // connect first, so that the handshake (UD, also subject to the loss) is in neither figure
        writer.submit(SingleWrite.of(src, 0, 4096, dst, 0)).get(120, TimeUnit.SECONDS);

        long[] cleanSent = sentAndDropped();
        double cleanMBps = moveAndVerify(writer, target, src, srcMemory, dst, dstMemory, 1, 0x4C00_0001);
        long[] afterClean = sentAndDropped();
        for (String dev : List.of(WRITER_IF, TARGET_IF)) {
            check(exec("tc", "qdisc", "replace", "dev", dev, "root", "netem", "loss", "2%", "delay", "1ms"));
            undo.add(new String[] {"tc", "qdisc", "del", "dev", dev, "root"});
        }
        double lossyMBps = moveAndVerify(writer, target, src, srcMemory, dst, dstMemory, 2, 0x4C00_0002);
        long[] lossy = sentAndDropped(); // netem's counters start when it is added
        System.out.printf("VerbsLossyLinkTest: %d x %d KiB imm writes, 1 NIC each side, over a QEMU hub: clean %.1f"
                        + " MB/s (%d packets on the wire), netem %s on both ends %.1f MB/s (ratio %.2f), %d of %d"
                        + " packets dropped and retransmitted by RC%n", COUNT, WRITE / 1024, cleanMBps,
                afterClean[0] - cleanSent[0], LOSS, lossyMBps, lossyMBps / cleanMBps, lossy[1], lossy[0] + lossy[1]);
        assertTrue(afterClean[0] - cleanSent[0] > bytes / 4096, "the clean run did not go over the wire: "
                + (afterClean[0] - cleanSent[0]) + " packets");
        assertTrue(lossy[1] > 0, "netem dropped nothing: the traffic did not pass it");
    }

    /** Packets sent and dropped by the root qdiscs of both wire NICs (tc -s). */
    private static long[] sentAndDropped() throws IOException, InterruptedException {
        long sent = 0;
        long dropped = 0;
        for (String dev : List.of(WRITER_IF, TARGET_IF)) {
            String s = exec("tc", "-s", "qdisc", "show", "dev", dev).output();
            Matcher m = Pattern.compile("Sent \\d+ bytes (\\d+) pkt \\(dropped (\\d+)").matcher(s);
            if (m.find()) {
                sent += Long.parseLong(m.group(1));
                dropped += Long.parseLong(m.group(2));
            }
        }
        return new long[] {sent, dropped};
    }

    /** Addresses, rxe devices and policy routes of the wire; {@code undo} collects the reverse commands. */
    private static void buildWire(List<String[]> undo) throws IOException, InterruptedException {
        check(exec("modprobe", "sch_netem"));
        String[][] ends = {{WRITER_IF, WRITER_IP, "rxe1"}, {TARGET_IF, TARGET_IP, "rxe2"}};
        for (String[] end : ends) {
            check(exec("ip", "link", "set", end[0], "up"));
            check(exec("ip", "addr", "add", end[1] + "/24", "dev", end[0]));
            undo.add(new String[] {"ip", "addr", "del", end[1] + "/24", "dev", end[0]});
        }
        for (String conf : List.of("all", "default", WRITER_IF, TARGET_IF)) {
            check(exec("sysctl", "-q", "-w", "net.ipv4.conf." + conf + ".accept_local=1",
                    "net.ipv4.conf." + conf + ".rp_filter=0", "net.ipv4.conf." + conf + ".arp_ignore=1"));
        }
        // locally generated packets between the two addresses leave through the source's NIC
        check(exec("ip", "rule", "add", "pref", "100", "table", "local"));
        undo.add(new String[] {"ip", "rule", "del", "pref", "100", "table", "local"});
        check(exec("ip", "rule", "del", "pref", "0", "table", "local"));
        undo.add(new String[] {"ip", "rule", "add", "pref", "0", "table", "local"});
        int pref = 10;
        for (String[] end : ends) {
            String other = end == ends[0] ? TARGET_IP : WRITER_IP;
            String table = Integer.toString(100 + pref);
            check(exec("ip", "rule", "add", "pref", Integer.toString(pref), "iif", "lo", "from", end[1], "to", other,
                    "table", table));
            undo.add(new String[] {"ip", "rule", "del", "pref", Integer.toString(pref)});
            check(exec("ip", "route", "add", other, "dev", end[0], "src", end[1], "table", table));
            pref++;
        }
        for (String[] end : ends) {
            check(exec("rdma", "link", "add", end[2], "type", "rxe", "netdev", end[0]));
            undo.add(new String[] {"rdma", "link", "delete", end[2]});
        }
    }

    private static TransferEngine engine(String name, String device, int gidIndex) {
        return TransferEngine.builder().provider("verbs").groups(1, 1).name(name)
                .providerOption("verbs.device", device)
                .providerOption("verbs.gidIndex", Integer.toString(gidIndex))
                .transferTimeout(Duration.ofSeconds(240)).build();
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

    /** The index of the RoCE v2 GID {@code ::ffff:ip} of {@code device}, port 1, waiting up to 20 s for it. */
    private static int roceV2GidIndex(String device, String ip) throws InterruptedException {
        String[] o = ip.split("\\.");
        String wanted = String.format("0000:0000:0000:0000:0000:ffff:%02x%02x:%02x%02x", Integer.parseInt(o[0]),
                Integer.parseInt(o[1]), Integer.parseInt(o[2]), Integer.parseInt(o[3]));
        Path port = Path.of("/sys/class/infiniband", device, "ports/1");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        do {
            for (int i = 0; i < 16; i++) {
                try {
                    if (Files.readString(port.resolve("gids/" + i)).trim().equals(wanted)
                            && Files.readString(port.resolve("gid_attrs/types/" + i)).trim().equals("RoCE v2")) {
                        return i;
                    }
                } catch (IOException e) {
                    // an empty slot reads as an error (EINVAL); keep looking
                }
            }
            Thread.sleep(100);
        } while (System.nanoTime() - deadline < 0);
        return fail("no RoCE v2 GID for " + ip + " under " + port);
    }

    private static void check(Exec e) {
        if (e.status() != 0) {
            fail("setting up the wire: " + e);
        }
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
        for (String dir : List.of("/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/")) {
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
