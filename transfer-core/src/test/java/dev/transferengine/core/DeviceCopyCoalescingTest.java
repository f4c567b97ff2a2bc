package dev.transferengine.core;

import dev.transferengine.api.Access;
import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.testing.HostDeviceBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 8: KV pages in device memory, in order on both sides, go out as a few copy launches instead of one per
 * page (each launch costs a few microseconds on a real GPU, more than an 8 KiB page's bytes), with every page's
 * bytes and imm as before; on the same-host GPU path ({@code cudaIpc}) and on loopback's own device copies; the
 * engine option {@code coalesceCopies=false} gives one launch per page. Pages out of order (the KV kit's shape) go
 * out in batch launches where the device has them.
 */
class DeviceCopyCoalescingTest {
    private static final int PAGE = 8192;
    private static final int PAGES = 256;

    @ParameterizedTest(name = "coalesceCopies={0}, cudaIpc={1}")
    @CsvSource({"true,true", "false,true", "true,false", "false,false"})
    void pagesInOrderShareLaunchesAndEachDeliversItsBytesAndImm(boolean coalesce, boolean ipc) throws Exception {
        int[] inOrder = new int[PAGES];
        for (int i = 0; i < PAGES; i++) {
            inOrder[i] = i;
        }
        long launches = launchesOfAPagedWrite(new HostDeviceBackend(1), coalesce, ipc, inOrder);
        if (coalesce) {
            assertTrue(launches <= PAGES / 8, PAGES + " pages in order took " + launches + " copy launches");
        } else {
            assertEquals(PAGES, launches, "one launch per page without coalescing");
        }
    }

    @ParameterizedTest(name = "cudaIpc={0}")
    @ValueSource(booleans = {true, false})
    void scatteredPagesGoOutInBatchLaunchesWithEveryPagesBytesAndImm(boolean ipc) throws Exception {
        int[] scattered = new int[PAGES];
        for (int i = 0; i < PAGES; i++) {
            scattered[i] = (i * 37) % PAGES; // a permutation: no two consecutive pages meet on both sides
        }
        HostDeviceBackend noBatches = new HostDeviceBackend(1);
        assertEquals(PAGES, launchesOfAPagedWrite(noBatches, true, ipc, scattered),
                "no batch launch: one launch per scattered page");
        HostDeviceBackend batches = new HostDeviceBackend(1);
        batches.batchLaunches = 64;
        long launches = launchesOfAPagedWrite(batches, true, ipc, scattered);
        assertTrue(launches <= PAGES / 8, PAGES + " scattered pages took " + launches + " launches");
    }

    /**
     * Writes page {@code i} of a device region of engine A to page {@code to[i]} of one of engine B as one paged
     * write with an imm per page; asserts every page's bytes and imm; returns the copy launches it took.
     */
    private static long launchesOfAPagedWrite(HostDeviceBackend device, boolean coalesce, boolean ipc, int[] to)
            throws Exception {
        long bytes = (long) PAGE * PAGES;
        long srcPtr = device.allocate(0, bytes);
        long dstPtr = device.allocate(0, bytes);
        try (Arena arena = Arena.ofConfined();
             TransferEngine a = engine("coalesce-a", device, coalesce, ipc);
             TransferEngine b = engine("coalesce-b", device, coalesce, ipc)) {
            MemorySegment pattern = arena.allocate(bytes);
            for (long i = 0; i < bytes; i++) {
                pattern.set(JAVA_BYTE, i, (byte) (i * 31 + 7));
            }
            device.upload(srcPtr, pattern);
            device.upload(dstPtr, arena.allocate(bytes));
            MemoryRegion src = a.registerDevice(srcPtr, bytes, 0, Access.LOCAL);
            MemoryRegion dst = b.registerDevice(dstPtr, bytes, 0, Access.REMOTE_WRITE);
            int[] from = new int[PAGES];
            for (int i = 0; i < PAGES; i++) {
                from[i] = i;
            }
            ImmCounter imms = b.immCounter(42);
            long before = device.copiesQueued.get();
            a.submit(new PagedWrite(PAGE, src, from, PAGE, 0, dst.descriptor(), to, PAGE, 0, OptionalInt.of(42)))
                    .get(30, TimeUnit.SECONDS);
            long launches = device.copiesQueued.get() - before;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (imms.arrived() < PAGES && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals(PAGES, imms.arrived(), "one imm per page");
            MemorySegment got = arena.allocate(bytes);
            device.download(dstPtr, got);
            for (int i = 0; i < PAGES; i++) {
                MemorySegment landed = got.asSlice((long) to[i] * PAGE, PAGE);
                assertEquals(-1, landed.mismatch(pattern.asSlice((long) i * PAGE, PAGE)), "page " + i + " -> " + to[i]);
            }
            return launches;
        } finally {
            device.free(srcPtr);
            device.free(dstPtr);
        }
    }

    private static TransferEngine engine(String name, HostDeviceBackend device, boolean coalesce, boolean ipc) {
        return TransferEngine.builder().name(name).addGroup(GroupSpec.ofNics(1).withCudaDevice(0))
                .deviceBackend(device).transferTimeout(Duration.ofSeconds(30))
                .providerOption("coalesceCopies", Boolean.toString(coalesce))
                .providerOption("cudaIpc", Boolean.toString(ipc)).build();
    }
}
