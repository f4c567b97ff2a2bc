package dev.transferengine.efa;

import dev.transferengine.testing.RecordingSink;
import dev.transferengine.testing.LabellingDeviceBackend;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.efa.internal.LibfabricFabric;
import dev.transferengine.efa.internal.LibfabricLibrary;
import dev.transferengine.efa.internal.LibfabricSettings;
import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Device memory registered with FI_HMEM on a real GPU: needs libcuda.so.1, a CUDA device and a CUDA-enabled
 * libfabric ({@code -Dte.libfabric.library=<dir>/libfabric.so.1.20.0}, see shared/tools/libfabric-cuda). Tagged
 * {@code gpu}: the normal build never runs it. Fails (does not skip) when something is missing, since it is only
 * run on purpose. Optional {@code -Dte.test.cudaDevice=N} (default 0).
 *
 * <p>Two domains in this process, A (initiator) and B (target), each with host and device registrations; writes
 * with imm host->GPU, GPU->host and GPU->GPU at 4 KiB (shm's inject size) and 1 MiB, bytes checked by copying the
 * device memory back with cuMemcpyDtoH.
 */
@Tag("gpu")
class CudaDeviceRegistrationGpuTest {
    private static final long BYTES = 1 << 20;
    private static CudaTestDriver cuda;

    @BeforeAll
    static void cuda() {
        TestProviders.assumeLibfabric();
        cuda = CudaTestDriver.open(Integer.getInteger("te.test.cudaDevice", 0));
        System.out.println("libfabric " + LibfabricLibrary.load(LibfabricSettings.from(Map.of()).libraryPath()).path()
                + ", CUDA device " + cuda.ordinal);
    }

    @AfterAll
    static void release() {
        if (cuda != null) {
            cuda.close();
        }
    }

    @Test
    void shmWritesHostToGpuGpuToHostAndGpuToGpu() {
        try (Pair p = new Pair(TestProviders.SHM.with(LibfabricOptions.HMEM, "true"))) {
            assertFalse(p.a.capabilities().hostMemoryOnly(), "shm grants FI_HMEM: " + p.info.description());
            p.transfers();
        }
    }

    @Test
    void shmAutoWithACudaGroupPicksHmem() {
        try (Pair p = new Pair(TestProviders.SHM.with(LibfabricOptions.CUDA_DEVICES, Integer.toString(cuda.ordinal)))) {
            assertFalse(p.a.capabilities().hostMemoryOnly(), p.info.description());
            p.transfers();
        }
    }

    /** tcp;ofi_rxm 1.17: with FI_HMEM granted by the CUDA build, the same transfers; without it, UNAVAILABLE. */
    @Test
    void tcpWritesDeviceMemoryOrSaysUnavailable() {
        try (Pair p = new Pair(TestProviders.TCP.with(LibfabricOptions.HMEM, "true"))) {
            System.out.println("tcp: " + p.info.description());
            if (p.a.capabilities().hostMemoryOnly()) {
                long d = cuda.alloc(4096);
                try {
                    TransferException e = assertThrows(TransferException.class,
                            () -> p.a.registerDevice(LabellingDeviceBackend.labelled(d, 4096, cuda.ordinal), true));
                    assertEquals(ErrorCategory.UNAVAILABLE, e.category(), e.getMessage());
                    System.out.println("tcp has no FI_HMEM: " + e.getMessage());
                } finally {
                    cuda.free(d);
                }
            } else {
                p.transfers();
            }
        }
    }

    /** Two domains on one fi_info entry, host and device buffers registered on each. */
    private static final class Pair implements AutoCloseable {
        final LibfabricFabric fabric;
        final DomainInfo info;
        final ProviderDomain a;
        final ProviderDomain b;
        final Arena arena = Arena.ofShared();
        final RecordingSink sinkA = new RecordingSink();
        final RecordingSink sinkB = new RecordingSink();
        long devA;
        long devB;

        Pair(Map<String, String> options) {
            // Both domains live in this process: shm's CUDA IPC cannot open a handle of its own process.
            Map<String, String> inProcess = new java.util.HashMap<>(options);
            inProcess.put(LibfabricOptions.HMEM_DEVICE_ONLY, "false");
            LibfabricSettings settings = LibfabricSettings.from(inProcess);
            fabric = new LibfabricFabric(LibfabricLibrary.load(settings.libraryPath()), settings);
            info = fabric.domains().get(0);
            a = fabric.openDomain(info);
            b = fabric.openDomain(info);
        }

        void transfers() {
            MemorySegment hostA = arena.allocate(BYTES, 4096);
            MemorySegment hostB = arena.allocate(BYTES, 4096);
            devA = cuda.alloc(BYTES);
            devB = cuda.alloc(BYTES);
            RegisteredMemory hostMemA = a.register(hostA, false);
            RegisteredMemory hostMemB = b.register(hostB, true);
            RegisteredMemory devMemA = a.registerDevice(LabellingDeviceBackend.labelled(devA, BYTES, cuda.ordinal), false);
            RegisteredMemory devMemB = b.registerDevice(LabellingDeviceBackend.labelled(devB, BYTES, cuda.ordinal), true);
            System.out.println(info.name() + ": " + devMemA + ", " + devMemB);
            long peer = a.resolvePeer(b.address());
            b.resolvePeer(a.address());
            cuda.toDevice(devB, arena.allocate(BYTES)); // zeros
            int imm = 100;
            for (long len : new long[] {4096, BYTES}) {
                // host -> GPU
                pattern(hostA, 0, len, 1);
                write(peer, hostMemA, hostA.address(), len, devMemB, 0, ++imm);
                MemorySegment back = arena.allocate(len);
                cuda.toHost(back, devB);
                check(back, 0, len, 1, "host->GPU " + len);
                // GPU -> host
                MemorySegment src = arena.allocate(len);
                pattern(src, 0, len, 2);
                cuda.toDevice(devA, src);
                write(peer, devMemA, devA, len, hostMemB, 0, ++imm);
                check(hostB, 0, len, 2, "GPU->host " + len);
                // GPU -> GPU, into the middle of B's device buffer when small
                long dst = len < BYTES ? 8192 : 0;
                pattern(src, 0, len, 3);
                cuda.toDevice(devA, src);
                write(peer, devMemA, devA, len, devMemB, dst, ++imm);
                cuda.toHost(back, devB + dst);
                check(back, 0, len, 3, "GPU->GPU " + len);
            }
            assertEquals(0, sinkA.duplicates() + sinkB.duplicates());
            assertTrue(sinkA.errors.isEmpty() && sinkB.errors.isEmpty(), () -> "errors: " + sinkA.errors + sinkB.errors);
            a.deregister(devMemA);
            b.deregister(devMemB);
            a.deregister(hostMemA);
            b.deregister(hostMemB);
        }

        /** One write with imm; waits until B saw the imm and A its completion. */
        void write(long peer, RegisteredMemory src, long srcAddress, long len, RegisteredMemory dst, long dstOffset,
                   int imm) {
            long context = imm;
            long deadline = System.nanoTime() + DomainPair.DEADLINE.toNanos();
            while (a.postWrite(peer, src, srcAddress, len, dst.remoteBase() + dstOffset, dst.remoteKey(), true, imm,
                    context) != ProviderDomain.POSTED) {
                poll(deadline, "RETRY");
            }
            while (!sinkB.imms.contains(imm) || !sinkA.finished(context)) {
                poll(deadline, "imm " + imm + " of a " + len + "-byte write from " + src + " to " + dst);
                Thread.onSpinWait();
            }
            if (sinkA.errors.containsKey(context)) {
                fail("write failed: " + sinkA.errors.get(context));
            }
        }

        private void poll(long deadline, String what) {
            a.poll(sinkA, 16);
            b.poll(sinkB, 16);
            if (System.nanoTime() - deadline > 0) {
                fail("timed out waiting for " + what);
            }
        }

        @Override
        public void close() {
            a.close();
            b.close();
            fabric.close();
            if (devA != 0) {
                cuda.free(devA);
            }
            if (devB != 0) {
                cuda.free(devB);
            }
            arena.close();
        }
    }

    private static void pattern(MemorySegment s, long offset, long len, int seed) {
        for (long i = 0; i < len; i++) {
            s.set(JAVA_BYTE, offset + i, (byte) (i * 31 + seed * 7 + (i >>> 12)));
        }
    }

    private static void check(MemorySegment s, long offset, long len, int seed, String what) {
        for (long i = 0; i < len; i++) {
            byte expected = (byte) (i * 31 + seed * 7 + (i >>> 12));
            if (s.get(JAVA_BYTE, offset + i) != expected) {
                fail(what + ": byte " + i + " is " + s.get(JAVA_BYTE, offset + i) + ", expected " + expected);
            }
        }
    }
}
