package dev.transferengine.efa;

import dev.transferengine.api.Access;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.ReceiveSet;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferTimeoutException;
import dev.transferengine.efa.internal.SignalHandlers;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * The other process of the two-process tests: an engine with a registered target region and posted
 * receives, driven by one-line commands on stdin, answering on stdout. Started by {@link TargetProcess}.
 *
 * <p>With {@code -Dte.test.targetDevice=cuda} the region is GPU memory of device 0 (a CUDA group; checksums
 * copy it back to the host first): the two-process GPU test.
 *
 * <p>Arguments: {@code <provider alias> <nics> <region bytes> <imm>...} (one free-running counter per imm,
 * created before the process says READY, so no imm can arrive uncounted). Commands:
 * <pre>
 *   COUNT imm n         wait until n imms of that value arrived  -> COUNTED imm arrived | TIMEOUT imm arrived
 *   CHECKSUM off len    CRC32 of the region's bytes              -> SUM crc
 *   MESSAGES n          wait for n SEND messages                 -> MSGS len:crc,len:crc,...
 *   GC                  a few full GCs (safepoints, SIGSEGVs)    -> GC-DONE sigsegv=owner
 *   REREGISTER          close the region, register its memory again -> REGION hex (the new descriptor)
 *   MEMORY              after a GC: resident set, C heap in use       -> MEM rss=kB cheap=kB
 *   HOLD [addr]         take the shm lock of the endpoint at addr (hex), or of this process's own endpoint, as a
 *                       process killed inside libfabric would leave it   -> HELD true|false
 *   QUIT                close the engine and exit                -> BYE
 * </pre>
 */
public final class TargetProcessMain {
    static final Duration WAIT = Duration.ofSeconds(60);

    private TargetProcessMain() {
    }

    public static void main(String[] args) throws Exception {
        String provider = args[0];
        int nics = Integer.parseInt(args[1]);
        long regionBytes = Long.parseLong(args[2]);
        List<String> messages = new ArrayList<>();
        boolean onGpu = "cuda".equals(System.getProperty("te.test.targetDevice"));
        TransferEngine.Builder builder = TransferEngine.builder().provider(provider)
                .name("target-" + ProcessHandle.current().pid());
        if (onGpu) {
            builder.addGroup(dev.transferengine.api.GroupSpec.ofNics(nics).withCudaDevice(0));
        } else {
            builder.groups(1, nics);
        }
        try (Arena arena = Arena.ofShared();
             TransferEngine engine = builder.build();
             dev.transferengine.cuda.CudaDeviceMemory gpu = onGpu
                     ? dev.transferengine.cuda.CudaDeviceMemory.allocate(0, regionBytes) : null) {
            MemorySegment buffer = arena.allocate(regionBytes, 4096);
            if (gpu != null) {
                gpu.fill((byte) 0);
            }
            MemoryRegion region = gpu == null ? engine.register(buffer, Access.REMOTE_WRITE)
                    : engine.registerDevice(gpu.address(), regionBytes, 0, Access.REMOTE_WRITE);
            List<ImmCounter> counters = new ArrayList<>();
            for (int i = 3; i < args.length; i++) {
                counters.add(engine.immCounter(Integer.parseInt(args[i])));
            }
            ReceiveSet receives = engine.postReceives(8192, 16, message -> {
                byte[] bytes = message.toArray(JAVA_BYTE);
                synchronized (messages) {
                    messages.add(bytes.length + ":" + crc(bytes));
                    messages.notifyAll();
                }
            });
            say("READY addr=" + engine.mainAddress().toHex() + " region=" + region.descriptor().toHex()
                    + " sigsegv=" + SignalHandlers.owner(11) + " restored=" + SignalHandlers.restoredSoFar()
                    .stream().map(String::valueOf).reduce((x, y) -> x + "," + y).orElse("none"));
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                String[] w = line.trim().split(" ");
                switch (w[0]) {
                    case "COUNT" -> count(counters, Integer.parseInt(w[1]), Long.parseLong(w[2]));
                    case "CHECKSUM" -> {
                        MemorySegment slice = buffer.asSlice(Long.parseLong(w[1]), Long.parseLong(w[2]));
                        if (gpu != null) {
                            gpu.copyToHost(Long.parseLong(w[1]), slice); // device memory: read it back first
                        }
                        say("SUM " + crc(slice.toArray(JAVA_BYTE)));
                    }
                    case "MESSAGES" -> say("MSGS " + awaitMessages(messages, Integer.parseInt(w[1])));
                    case "GC" -> {
                        for (int i = 0; i < 5; i++) {
                            System.gc();
                        }
                        say("GC-DONE sigsegv=" + SignalHandlers.owner(11));
                    }
                    case "REREGISTER" -> {
                        region.close();
                        region = gpu == null ? engine.register(buffer, Access.REMOTE_WRITE)
                                : engine.registerDevice(gpu.address(), regionBytes, 0, Access.REMOTE_WRITE);
                        say("REGION " + region.descriptor().toHex());
                    }
                    case "MEMORY" -> {
                        System.gc();
                        say("MEM rss=" + ProcessMemory.residentKilobytes() + " cheap="
                                + ProcessMemory.cHeapKilobytes());
                    }
                    case "HOLD" -> {
                        byte[] target = w.length > 1 ? dev.transferengine.api.DomainAddress.fromHex(w[1]).bytes()
                                : engine.mainAddress().bytes();
                        say("HELD " + dev.transferengine.efa.internal.ShmLocks.take(target));
                    }
                    case "QUIT" -> {
                        receives.close();
                        say("BYE");
                        return;
                    }
                    default -> say("ERROR unknown command " + line);
                }
            }
        }
    }

    private static void count(List<ImmCounter> counters, int imm, long n) {
        ImmCounter c = counters.stream().filter(x -> x.imm() == imm).findFirst().orElseThrow();
        try {
            c.await(n, WAIT);
            say("COUNTED " + imm + " " + c.arrived());
        } catch (TransferTimeoutException e) {
            say("TIMEOUT " + imm + " " + c.arrived());
        }
    }

    private static String awaitMessages(List<String> messages, int n) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        synchronized (messages) {
            while (messages.size() < n && System.nanoTime() < deadline) {
                messages.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            }
            return String.join(",", messages);
        }
    }

    static long crc(byte[] bytes) {
        CRC32 c = new CRC32();
        c.update(bytes);
        return c.getValue();
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
