package dev.transferengine.cuda;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceCopyQueue;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Needs a real GPU and driver; excluded from the normal build (tag {@code gpu}). Fails, never skips, when a
 * call fails: on the machine these run on, CUDA is expected to work. Run with the JUnit console launcher:
 * {@code java --enable-native-access=ALL-UNNAMED -jar junit-platform-console-standalone.jar -cp ...
 * --include-tag gpu --select-class dev.transferengine.cuda.CudaGpuTest}.
 */
@Tag("gpu")
class CudaGpuTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int MIB = 1 << 20;
    private final CudaDeviceBackend backend = new CudaDeviceBackend();

    @BeforeAll
    static void cudaMustWork() {
        assertTrue(Cuda.isAvailable(), () -> "the gpu tests need CUDA: " + Cuda.unavailabilityCause());
        System.out.printf("CUDA driver %d, %d device(s), device 0: %s, compute %d.%d, dma-buf %d, GPUDirect RDMA %d%n",
                Cuda.driverVersion(), Cuda.deviceCount(), Cuda.deviceName(0),
                Cuda.attribute(0, Cuda.ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                Cuda.attribute(0, Cuda.ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                Cuda.attribute(0, Cuda.ATTRIBUTE_DMA_BUF_SUPPORTED),
                Cuda.attribute(0, Cuda.ATTRIBUTE_GPU_DIRECT_RDMA_SUPPORTED));
    }

    @Test
    void deviceFacts() {
        assertTrue(Cuda.driverVersion() >= 12000, "driver " + Cuda.driverVersion());
        assertTrue(Cuda.deviceCount() >= 1);
        assertTrue(!Cuda.deviceName(0).isBlank());
        assertEquals(1, Cuda.attribute(0, Cuda.ATTRIBUTE_UNIFIED_ADDRESSING));
        assertTrue(backend.availability().available());
        assertEquals(Cuda.deviceCount(), backend.deviceCount());
        assertThrows(InvalidRequestException.class, () -> Cuda.deviceName(Cuda.deviceCount()));
    }

    @Test
    void hostToDeviceToHostKeepsEveryByte() {
        byte[] pattern = pattern(MIB + 123, 7);
        try (CudaDeviceMemory memory = CudaDeviceMemory.allocate(0, 2L * MIB)) {
            memory.fill((byte) 0x5a);
            memory.copyFromHost(MemorySegment.ofArray(pattern), 4096);
            byte[] back = new byte[pattern.length];
            memory.copyToHost(4096, MemorySegment.ofArray(back));
            assertArrayEquals(pattern, back);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment head = arena.allocate(4096);
                memory.copyToHost(0, head);
                for (long i = 0; i < 4096; i++) {
                    assertEquals((byte) 0x5a, head.get(JAVA_BYTE, i), "fill at " + i);
                }
            }
            PointerInfo info = Cuda.pointerInfo(memory.address() + 100);
            assertTrue(info.isPlainDeviceMemory(), info.toString());
            assertEquals(0, info.ordinal());
            assertEquals(memory.address(), info.rangeStart());
        }
    }

    @Test
    void checkRangeAcceptsSubRangesAndRejectsEverythingElse() {
        try (CudaDeviceMemory memory = CudaDeviceMemory.allocate(0, 4L * MIB); Arena arena = Arena.ofConfined()) {
            DeviceBackend.DeviceAllocation a = backend.checkRange(0, memory.address() + MIB, MIB);
            assertEquals(new DeviceBackend.DeviceAllocation(0, memory.address(), 4L * MIB), a);
            assertEquals(a, backend.checkRange(0, memory.address(), 4L * MIB));

            MemorySegment host = arena.allocate(MIB);
            assertMessage(() -> backend.checkRange(0, host.address(), MIB), "not device memory");
            MemorySegment pinned = backend.allocatePinnedHost(MIB);
            try {
                assertMessage(() -> backend.checkRange(0, pinned.address(), MIB), "not device memory");
            } finally {
                backend.freePinnedHost(pinned);
            }
            assertMessage(() -> backend.checkRange(0, memory.address() + 3L * MIB, 2L * MIB), "runs past its allocation");
            assertMessage(() -> backend.checkRange(Cuda.deviceCount(), memory.address(), MIB), "does not exist");
            if (Cuda.deviceCount() > 1) {
                try (CudaDeviceMemory other = CudaDeviceMemory.allocate(1, MIB)) {
                    assertMessage(() -> backend.checkRange(0, other.address(), MIB), "device 1, not of device 0");
                }
            }
        }
        CudaDeviceMemory freed = CudaDeviceMemory.allocate(0, MIB);
        long address = freed.address();
        freed.close();
        assertMessage(() -> backend.checkRange(0, address, MIB), "not device memory");
    }

    @Test
    void copyQueueTicketsCompleteAndBytesLandDeviceToDevice() {
        int chunk = 64 * 1024;
        int chunks = 16;
        byte[] pattern = pattern(chunk * chunks, 3);
        try (CudaDeviceMemory src = CudaDeviceMemory.allocate(0, (long) chunk * chunks);
             CudaDeviceMemory dst = CudaDeviceMemory.allocate(0, (long) chunk * chunks);
             DeviceCopyQueue queue = backend.openCopyQueue(0)) {
            src.copyFromHost(MemorySegment.ofArray(pattern), 0);
            dst.fill((byte) 0);
            long last = -1;
            for (int i = 0; i < chunks; i++) {
                long ticket = queue.copy(dst.address() + (long) i * chunk, src.address() + (long) i * chunk, chunk);
                assertEquals(last + 1, ticket, "tickets increase by one");
                last = ticket;
            }
            awaitTicket(queue, last);
            assertTrue(queue.isDone(0), "earlier tickets are done too");
            assertEquals(0, queue.outstanding());
            byte[] back = new byte[pattern.length];
            dst.copyToHost(0, MemorySegment.ofArray(back));
            assertArrayEquals(pattern, back);
        }
    }

    /**
     * One {@code cuMemcpyBatchAsync} on the real driver: device to device, pageable host to device, device to pinned
     * host, in one batch under one ticket; the driver takes it (no copy-by-copy fallback) and every byte lands.
     */
    @Test
    void aBatchOfUnrelatedCopiesLandsEveryByteWithoutFallingBack() {
        byte[] pattern = pattern(MIB, 5);
        MemorySegment pinned = backend.allocatePinnedHost(MIB);
        try (Arena arena = Arena.ofConfined();
             CudaDeviceMemory src = CudaDeviceMemory.allocate(0, MIB);
             CudaDeviceMemory dst = CudaDeviceMemory.allocate(0, MIB);
             DeviceCopyQueue queue = backend.openCopyQueue(0)) {
            MemorySegment pageable = arena.allocate(MIB);
            MemorySegment.copy(MemorySegment.ofArray(pattern), 0, pageable, 0, MIB);
            src.copyFromHost(MemorySegment.ofArray(pattern), 0);
            dst.fill((byte) 0);
            pinned.fill((byte) 0);
            assertEquals(128, queue.maxBatch(), "a driver with CUDA 13.0's cuMemcpyBatchAsync_v2 (580 has it)");
            long refusedBefore = CudaBatchLaunch.refused();
            long[] d = {dst.address(), dst.address() + 300_000, pinned.address() + 4096};
            long[] s = {src.address() + 8192, pageable.address() + 1000, src.address() + 500_000};
            long[] n = {100_000, 200_000, 65_536};
            long ticket = queue.copyBatch(d, s, n, 3, false);
            awaitTicket(queue, ticket);
            assertEquals(refusedBefore, CudaBatchLaunch.refused(), "the driver took the batch");
            byte[] back = new byte[MIB];
            dst.copyToHost(0, MemorySegment.ofArray(back));
            assertArrayEquals(Arrays.copyOfRange(pattern, 8192, 108_192), Arrays.copyOfRange(back, 0, 100_000));
            assertArrayEquals(Arrays.copyOfRange(pattern, 1000, 201_000), Arrays.copyOfRange(back, 300_000, 500_000));
            assertEquals(0, back[100_000], "nothing past the first copy");
            byte[] pinnedBack = pinned.asSlice(4096, 65_536).toArray(JAVA_BYTE);
            assertArrayEquals(Arrays.copyOfRange(pattern, 500_000, 565_536), pinnedBack);
        } finally {
            backend.freePinnedHost(pinned);
        }
    }

    /**
     * The engine's copy kernel on the real GPU: 127 scattered 8 KiB pages and one 1 MiB copy (split over several
     * blocks) device to device, plus one into device-mapped pinned host memory, as one kernel launch; every byte
     * lands where it should and nothing around the copies changes.
     */
    @Test
    void theCopyKernelMovesScatteredPagesAndALongCopyInOneLaunch() {
        int page = 8192;
        int pages = 126;
        long span = 4L * MIB;
        byte[] pattern = pattern((int) span, 9);
        MemorySegment pinned = backend.allocatePinnedHost(MIB);
        try (CudaDeviceMemory src = CudaDeviceMemory.allocate(0, span);
             CudaDeviceMemory dst = CudaDeviceMemory.allocate(0, span);
             DeviceCopyQueue queue = backend.openCopyQueue(0)) {
            src.copyFromHost(MemorySegment.ofArray(pattern), 0);
            dst.fill((byte) 0);
            pinned.fill((byte) 0);
            long[] d = new long[128];
            long[] s = new long[128];
            long[] n = new long[128];
            for (int i = 0; i < pages; i++) {
                d[i] = dst.address() + (long) (pages - 1 - i) * page; // reversed: no two pages contiguous
                s[i] = src.address() + (long) i * 2 * page;           // every other source page
                n[i] = page;
            }
            d[pages] = dst.address() + 2 * MIB;
            s[pages] = src.address() + 3 * MIB;
            n[pages] = MIB;
            d[pages + 1] = pinned.address() + 4096;
            s[pages + 1] = src.address() + 16;
            n[pages + 1] = 65_536;
            long kernelsBefore = CudaBatchLaunch.kernels();
            long ticket = queue.copyBatch(d, s, n, pages + 2, true);
            awaitTicket(queue, ticket);
            assertEquals(kernelsBefore + 1, CudaBatchLaunch.kernels(), "one kernel launch (the module loaded)");
            byte[] back = new byte[(int) span];
            dst.copyToHost(0, MemorySegment.ofArray(back));
            for (int i = 0; i < pages; i++) {
                int at = (pages - 1 - i) * page;
                assertArrayEquals(Arrays.copyOfRange(pattern, i * 2 * page, i * 2 * page + page),
                        Arrays.copyOfRange(back, at, at + page), "page " + i);
            }
            assertArrayEquals(Arrays.copyOfRange(pattern, 3 * MIB, 4 * MIB), Arrays.copyOfRange(back, 2 * MIB, 3 * MIB));
            assertArrayEquals(new byte[MIB - pages * page], Arrays.copyOfRange(back, pages * page, MIB),
                    "nothing written between the pages and the long copy");
            assertArrayEquals(Arrays.copyOfRange(pattern, 16, 16 + 65_536),
                    pinned.asSlice(4096, 65_536).toArray(JAVA_BYTE), "into pinned host memory");
            assertEquals(0, pinned.get(JAVA_BYTE, 4095));
            assertEquals(0, pinned.get(JAVA_BYTE, 4096 + 65_536));
        } finally {
            backend.freePinnedHost(pinned);
        }
    }

    /**
     * The kernel's byte-wise head and tail: copies whose source and destination share their offset within 16 bytes
     * but start and end anywhere (shorter than the head, within one word, across many blocks), each surrounded by
     * bytes that must stay untouched, in one launch.
     */
    @Test
    void theCopyKernelMovesCopiesThatStartAndEndOffA16ByteBoundary() {
        long span = 4L * MIB;
        byte[] pattern = pattern((int) span, 13);
        // {destination offset, source offset, length}; each pair of offsets equal modulo 16
        long[][] copies = {
                {3, 19, 1001}, {4096 + 15, 15, 17}, {8192 + 1, 33, 5}, {12_288 + 7, 7, 9}, {16_384 + 16, 48, 33},
                {20_480 + 9, 65_536 + 9, 1}, {MIB + 9, 2 * MIB + 25, MIB + 7}, {3 * MIB + 1, 1, 0x4_0000 - 2}};
        int count = copies.length;
        try (CudaDeviceMemory src = CudaDeviceMemory.allocate(0, span);
             CudaDeviceMemory dst = CudaDeviceMemory.allocate(0, span);
             DeviceCopyQueue queue = backend.openCopyQueue(0)) {
            src.copyFromHost(MemorySegment.ofArray(pattern), 0);
            dst.fill((byte) 0);
            long[] d = new long[128];
            long[] s = new long[128];
            long[] n = new long[128];
            for (int i = 0; i < count; i++) {
                d[i] = dst.address() + copies[i][0];
                s[i] = src.address() + copies[i][1];
                n[i] = copies[i][2];
            }
            long kernelsBefore = CudaBatchLaunch.kernels();
            awaitTicket(queue, queue.copyBatch(d, s, n, count, true));
            assertEquals(kernelsBefore + 1, CudaBatchLaunch.kernels(), "one kernel launch");
            byte[] expected = new byte[(int) span];
            for (long[] c : copies) {
                System.arraycopy(pattern, (int) c[1], expected, (int) c[0], (int) c[2]);
            }
            byte[] back = new byte[(int) span];
            dst.copyToHost(0, MemorySegment.ofArray(back));
            assertEquals(-1, Arrays.mismatch(expected, back), "first wrong byte at " + Arrays.mismatch(expected, back));
        }
    }

    @Test
    void aFullCopyQueueSaysSoAndRecovers() {
        long big = 512L * MIB;
        try (CudaDeviceMemory a = CudaDeviceMemory.allocate(0, big); CudaDeviceMemory b = CudaDeviceMemory.allocate(0, big);
             DeviceCopyQueue queue = new CudaDeviceBackend(2).openCopyQueue(0)) {
            boolean sawFull = false;
            long last = -1;
            for (int i = 0; i < 64 && !sawFull; i++) {
                long ticket = queue.copy(b.address(), a.address(), big);
                if (ticket == DeviceCopyQueue.FULL) {
                    sawFull = true;
                } else {
                    last = ticket;
                }
            }
            assertTrue(sawFull, "two 512 MiB copies in flight should fill a ring of two events");
            assertTrue(queue.outstanding() <= 2);
            awaitTicket(queue, last);
            assertNotEquals(DeviceCopyQueue.FULL, queue.copy(b.address(), a.address(), MIB));
        }
    }

    @Test
    void pinnedHostMemoryIsDeviceMapped() {
        MemorySegment pinned = backend.allocatePinnedHost(MIB);
        try {
            assertEquals(MIB, pinned.byteSize());
            pinned.fill((byte) 1);
            assertEquals(PointerInfo.MemoryType.HOST, Cuda.pointerInfo(pinned.address()).memoryType());
        } finally {
            backend.freePinnedHost(pinned);
            backend.freePinnedHost(pinned);
        }
        byte[] pattern = pattern(MIB, 11);
        try (CudaPinnedMemory host = CudaPinnedMemory.allocate(MIB);
             CudaDeviceMemory device = CudaDeviceMemory.allocate(0, MIB);
             CudaStream stream = CudaStream.create(0)) {
            assertNotEquals(0, host.deviceAddress());
            MemorySegment.copy(pattern, 0, host.segment(), JAVA_BYTE, 0, MIB);
            stream.copy(device.address(), host.deviceAddress(), MIB);
            stream.synchronize(WAIT);
            byte[] back = new byte[MIB];
            device.copyToHost(0, MemorySegment.ofArray(back));
            assertArrayEquals(pattern, back);
        }
    }

    @Test
    void dmabufExportGivesAFileDescriptor() throws Throwable {
        try (CudaDeviceMemory memory = CudaDeviceMemory.allocate(0, 2L * MIB)) {
            assertEquals(0, memory.address() % 4096, "cuMemAlloc of 2 MiB should be page aligned");
            int fd = backend.exportDmabuf(memory.address(), 2L * MIB);
            assertTrue(fd >= 0, "fd " + fd);
            Path link = Path.of("/proc/self/fd/" + fd);
            System.out.println("dma-buf fd " + fd + " -> " + Files.readSymbolicLink(link));
            assertTrue(Files.readSymbolicLink(link).toString().contains("dmabuf"), Files.readSymbolicLink(link).toString());
            Linker linker = Linker.nativeLinker();
            MethodHandle close = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT));
            assertEquals(0, (int) close.invokeExact(fd));
        }
    }

    @Test
    void ipcHandleIs64Bytes() {
        try (CudaDeviceMemory memory = CudaDeviceMemory.allocate(0, 2L * MIB)) {
            byte[] handle = CudaIpc.handle(memory.address());
            assertEquals(64, handle.length);
            assertTrue(!Arrays.equals(new byte[64], handle), "handle is all zeros");
            assertEquals(HexFormat.of().formatHex(handle), CudaIpc.handleHex(memory.address()));
        }
    }

    @Test
    void timedEventsMeasureACopy() {
        try (CudaDeviceMemory a = CudaDeviceMemory.allocate(0, 64L * MIB); CudaDeviceMemory b = CudaDeviceMemory.allocate(0, 64L * MIB);
             CudaStream stream = CudaStream.create(0); CudaEvent start = CudaEvent.createTimed(0);
             CudaEvent end = CudaEvent.createTimed(0); CudaEvent cheap = CudaEvent.create(0)) {
            start.record(stream);
            stream.copy(b.address(), a.address(), 64L * MIB);
            end.record(stream);
            cheap.record(stream);
            end.synchronize(WAIT);
            cheap.synchronize(WAIT);
            assertTrue(stream.isIdle());
            float ms = end.elapsedMillisSince(start);
            System.out.printf("64 MiB device-to-device: %.3f ms%n", ms);
            assertTrue(ms > 0, "elapsed " + ms);
            assertThrows(InvalidRequestException.class, () -> cheap.elapsedMillisSince(start));
        }
    }

    @Test
    void streamWaitsForAWordTheHostWrites() {
        try (CudaPinnedMemory word = CudaPinnedMemory.allocate(4096); CudaStream stream = CudaStream.create(0);
             CudaEvent after = CudaEvent.create(0)) {
            word.segment().set(JAVA_LONG, 0, 0);
            stream.waitValue64(word.deviceAddress(), 5);
            after.record(stream);
            sleep(20);
            assertTrue(!after.isDone(), "the stream must wait for the word");
            word.segment().set(JAVA_LONG, 0, 5);
            after.synchronize(WAIT);
        }
    }

    /** The reference's "UVM watcher": from the host call to the watcher's action, p50 target 10 µs. */
    @Test
    void streamWriteValue64FiresAWatcherActionQuickly() {
        int rounds = 2000;
        int warmup = 200;
        long[] seen = new long[rounds];
        long[] acted = new long[rounds];
        AtomicLong done = new AtomicLong();
        try (GpuSignalWatcher watcher = GpuSignalWatcher.create(4); CudaStream stream = CudaStream.create(0)) {
            GpuSignalWatcher.Signal signal = watcher.newSignal();
            for (int i = -warmup; i < rounds; i++) {
                long value = i + warmup + 1L;
                watcher.watch(signal, value, () -> done.setRelease(value));
                long start = System.nanoTime();
                stream.writeValue64(signal.deviceAddress(), value);
                long deadline = start + WAIT.toNanos();
                while (done.getAcquire() != value) {
                    if (System.nanoTime() > deadline) {
                        fail("round " + i + ": the watcher never saw " + value + " (word is " + signal.value() + ")");
                    }
                    Thread.onSpinWait();
                }
                long end = System.nanoTime();
                if (i >= 0) {
                    seen[i] = signal.seenNanos() - start;
                    acted[i] = end - start;
                }
            }
        }
        Arrays.sort(seen);
        Arrays.sort(acted);
        double p50 = seen[rounds / 2] / 1000.0;
        System.out.printf("writeValue64 -> watcher saw it: p50 %.1f us, p99 %.1f us; -> action done seen by caller: "
                        + "p50 %.1f us, p99 %.1f us (%d rounds)%n", p50, seen[rounds * 99 / 100] / 1000.0,
                acted[rounds / 2] / 1000.0, acted[rounds * 99 / 100] / 1000.0, rounds);
        double target = Double.parseDouble(System.getProperty("te.cuda.signalP50Micros", "10"));
        assertTrue(p50 <= target, "p50 " + p50 + " us is above the " + target + " us target");
    }

    private static void awaitTicket(DeviceCopyQueue queue, long ticket) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!queue.isDone(ticket)) {
            if (System.nanoTime() > deadline) {
                fail("ticket " + ticket + " not done within " + WAIT);
            }
            Thread.onSpinWait();
        }
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String expected) {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, call);
        assertTrue(e.getMessage().contains(expected), () -> "expected '" + expected + "' in: " + e.getMessage());
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed + (i >>> 8));
        }
        return b;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
