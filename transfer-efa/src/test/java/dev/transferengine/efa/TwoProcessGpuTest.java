package dev.transferengine.efa;

import dev.transferengine.api.Access;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.ImmAccounting;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.cuda.CudaDeviceMemory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * GPU memory across two processes on one GPU, descriptors exchanged as hex like an application would: the
 * child ({@link TargetProcessMain} with {@code -Dte.test.targetDevice=cuda}) registers GPU memory, this process
 * writes into it from GPU and host memory. Bytes are checked by CRC of what the child copies back from its GPU.
 * The device backend is found by {@link java.util.ServiceLoader} (transfer-cuda on the class path).
 */
@Tag("gpu")
class TwoProcessGpuTest {
    private static final long REGION = 32L << 20;
    private static final int IMM = 0x6A0;

    private static List<String> childArgs(boolean gpuTarget) {
        List<String> args = new ArrayList<>();
        if (gpuTarget) {
            args.add("-Dte.test.targetDevice=cuda");
        }
        String library = System.getProperty("te.libfabric.library");
        if (library != null) {
            args.add("-Dte.libfabric.library=" + library);
        }
        return args;
    }

    private static TransferEngine gpuEngine(String provider) {
        return TransferEngine.builder().provider(provider).name("gpu-parent")
                .addGroup(GroupSpec.ofNics(1).withCudaDevice(0)).build();
    }

    private static byte[] pattern(long bytes, long seed) {
        byte[] b = new byte[(int) bytes];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static long crc(byte[] b, int off, int len) {
        java.util.zip.CRC32 c = new java.util.zip.CRC32();
        c.update(b, off, len);
        return c.getValue();
    }

    @Test
    void shmGpuToGpuAndHostToGpuAcrossProcesses() throws Exception {
        TargetProcess child = new TargetProcess(childArgs(true), "shm", 1, REGION, true, IMM);
        try (Arena arena = Arena.ofShared();
             TransferEngine engine = gpuEngine("shm");
             CudaDeviceMemory src = CudaDeviceMemory.allocate(0, REGION)) {
            byte[] data = pattern(REGION, 1);
            src.copyFromHost(MemorySegment.ofArray(data), 0);
            MemoryRegion gpuSrc = engine.registerDevice(src.address(), REGION, 0, Access.LOCAL);
            MemorySegment host = arena.allocate(1 << 20, 4096);
            byte[] hostData = pattern(1 << 20, 2);
            MemorySegment.copy(hostData, 0, host, JAVA_BYTE, 0, hostData.length);
            MemoryRegion hostSrc = engine.register(host, Access.LOCAL);

            // 16 MiB GPU->GPU single write, then 64 pages of 64 KiB in reverse order, then 1 MiB host->GPU.
            long big = 16L << 20;
            SingleWrite w1 = SingleWrite.withImm(gpuSrc, 0, big, child.region, 0, IMM);
            int pages = 64;
            long page = 64 << 10;
            int[] sp = new int[pages];
            int[] dp = new int[pages];
            for (int i = 0; i < pages; i++) {
                sp[i] = i;
                dp[i] = pages - 1 - i;
            }
            PagedWrite w2 = new PagedWrite(page, gpuSrc, sp, page, big, child.region, dp, page, big,
                    OptionalInt.of(IMM));
            SingleWrite w3 = SingleWrite.withImm(hostSrc, 0, 1 << 20, child.region, REGION - (1 << 20), IMM);
            engine.submit(w1).get(60, TimeUnit.SECONDS);
            engine.submit(w2).get(60, TimeUnit.SECONDS);
            engine.submit(w3).get(60, TimeUnit.SECONDS);
            long imms = ImmAccounting.immsProduced(w1, 1) + pages + 1;
            assertEquals(imms, child.count(IMM, imms));
            assertEquals(crc(data, 0, (int) big), child.checksum(0, big), "GPU->GPU single write");
            for (int i = 0; i < pages; i++) {
                assertEquals(crc(data, (int) (big + i * page), (int) page),
                        child.checksum(big + dp[i] * page, page), "page " + i);
            }
            assertEquals(crc(hostData, 0, 1 << 20), child.checksum(REGION - (1 << 20), 1 << 20), "host->GPU");

            // A stale descriptor: the child closes the region and registers the same GPU memory again. The old
            // descriptor's IPC share is refused (liveness word cleared), so no byte changes.
            assertNotNull(child.region.deviceShare(), "the child's GPU region carries a same-host share");
            RemoteRegion fresh = RemoteRegion.fromHex(child.ask("REREGISTER", "REGION").split(" ")[1]);
            long before = child.checksum(0, 1 << 20);
            ExecutionException stale = assertThrows(ExecutionException.class, () -> engine.submit(
                    SingleWrite.withImm(gpuSrc, big, 1 << 20, child.region, 0, IMM)).get(60, TimeUnit.SECONDS));
            assertEquals(ErrorCategory.REMOTE_ACCESS, ((TransferException) stale.getCause()).category(),
                    stale.getCause().toString());
            assertEquals(before, child.checksum(0, 1 << 20), "a stale descriptor changed no byte");
            engine.submit(SingleWrite.withImm(gpuSrc, big, 1 << 20, fresh, 0, IMM)).get(60, TimeUnit.SECONDS);
            assertEquals(imms + 1, child.count(IMM, 1)); // the child's counter awaits increments
            assertEquals(crc(data, (int) big, 1 << 20), child.checksum(0, 1 << 20), "the fresh descriptor works");
        } finally {
            child.close();
        }
    }

    @Test
    void tcpStagedGpuToHostAcrossProcesses() throws Exception {
        TargetProcess child = new TargetProcess(childArgs(false), "tcp", 1, REGION, true, IMM);
        try (TransferEngine engine = TransferEngine.builder().provider("tcp").name("gpu-parent")
                .providerOption("libfabric.hmem", "false")
                .addGroup(GroupSpec.ofNics(1).withCudaDevice(0)).build();
             CudaDeviceMemory src = CudaDeviceMemory.allocate(0, REGION)) {
            byte[] data = pattern(REGION, 3);
            src.copyFromHost(MemorySegment.ofArray(data), 0);
            MemoryRegion gpuSrc = engine.registerDevice(src.address(), REGION, 0, Access.LOCAL);
            SingleWrite w = SingleWrite.withImm(gpuSrc, 0, REGION, child.region, 0, IMM);
            engine.submit(w).get(60, TimeUnit.SECONDS);
            assertEquals(1, child.count(IMM, 1));
            assertEquals(crc(data, 0, (int) REGION), child.checksum(0, REGION), "staged GPU->host over tcp");
        } finally {
            child.close();
        }
    }
}
