package dev.transferengine.verbs;

import dev.transferengine.testing.LabellingDeviceBackend;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.RegisteredMemory;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code registerDevice} through a real verbs domain (Soft-RoCE in the guest). There is no GPU next to rxe, so
 * the "device memory" is labelled by a stub backend, and what is proven is the native plumbing and the fallback
 * order, not a GPU registration:
 * <ul>
 *   <li>the domain offers device registration ({@code hostMemoryOnly == false});</li>
 *   <li>{@code ibv_reg_dmabuf_mr} is really called (an fd that is not a dma-buf: rxe refuses dma-buf MRs, the
 *       dummy op answers EOPNOTSUPP) and its fd is closed afterwards; the fallback {@code ibv_reg_mr} on the
 *       pointer then registers it (the memory is host memory here, as with nvidia-peermem it would be GPU
 *       memory), and a write lands in it;</li>
 *   <li>when the export is refused (UNAVAILABLE) and the pointer cannot be pinned (a PROT_NONE mapping: EFAULT),
 *       the domain answers UNAVAILABLE naming both causes, and keeps working.</li>
 * </ul>
 */
@Tag(SoftRoce.TAG)
class VerbsDeviceMemoryTest {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final int PROT_NONE = 0;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;

    private static MethodHandle libc(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd);
    }

    private static final MethodHandle DUP = libc("dup", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle MMAP = libc("mmap", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = libc("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

    /** A fresh descriptor that is not a dma-buf (a duplicate of stderr). */
    private static int notADmabuf() {
        try {
            int fd = (int) DUP.invokeExact(2);
            assertTrue(fd >= 0, "dup(2)");
            return fd;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static boolean open(int fd) {
        return Files.exists(Path.of("/proc/self/fd/" + fd));
    }

    @Test
    void domainsOfferDeviceRegistration() {
        try (DomainPair p = new DomainPair()) {
            assertFalse(p.a.capabilities().hostMemoryOnly(), "verbs may try registerDevice");
            System.out.println("/dev/udmabuf in the guest: " + Files.exists(Path.of("/dev/udmabuf")));
        }
    }

    @Test
    void dmabufRefusedByRxeFallsBackToThePointerAndAWriteLandsThere() {
        try (DomainPair p = new DomainPair()) {
            int[] fd = {-1};
            LabellingDeviceBackend backend = new LabellingDeviceBackend((a, l) -> fd[0] = notADmabuf());
            MemorySegment src = p.buffer(3 * 4096);
            MemorySegment dst = p.buffer(4 * 4096);
            src.fill((byte) 0x5A);
            // the "device" range starts inside a page: the export is widened, the registration is not
            long address = dst.address() + 100;
            RegisteredMemory dev = p.b.registerDevice(backend.label(address, 3 * 4096, 0, dst.address(),
                    dst.byteSize()), true);
            System.out.println("registered: " + dev);
            assertEquals(1, backend.exports.size(), "one export");
            assertEquals(dst.address(), backend.exports.get(0)[0], "page-aligned start");
            assertEquals(4 * 4096, backend.exports.get(0)[1], "page-aligned length");
            assertFalse(open(fd[0]), "the dma-buf fd " + fd[0] + " was closed after the registration attempt");
            assertTrue(dev.toString().contains("ibv_reg_mr on the device pointer"), dev.toString());
            assertEquals(address, dev.remoteBase(), "virtual addressing: the device pointer");

            RegisteredMemory srcMr = p.a.register(src, false);
            long peer = p.a.resolvePeer(p.b.address());
            p.post(() -> p.a.postWrite(peer, srcMr, src.address(), 3 * 4096, dev.remoteBase(), dev.remoteKey(),
                    true, 0xD00D, 1), "write into device-registered memory");
            p.pollUntil(() -> p.sinkA.finished(1) && p.sinkB.immCount(0xD00D) == 1, "write and imm");
            assertTrue(p.sinkA.errors.isEmpty(), () -> "errors: " + p.sinkA.errors);
            assertEquals(-1, src.mismatch(dst.asSlice(100, 3 * 4096)), "bytes landed at the device address");
            assertEquals(0, dst.get(JAVA_BYTE, 99), "nothing before the range");
            p.b.deregister(dev);
            p.a.deregister(srcMr);
        }
    }

    @Test
    void exportRefusedAndPointerRefusedIsUnavailableWithBothCauses() throws Throwable {
        long length = 16 * 4096;
        MemorySegment noAccess = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, length, PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
        assertTrue(noAccess.address() != -1L && noAccess.address() != 0, "mmap");
        try (DomainPair p = new DomainPair()) {
            LabellingDeviceBackend refusing = new LabellingDeviceBackend((a, l) -> {
                throw new TransferException(ErrorCategory.UNAVAILABLE, "stub: no dma-buf export here");
            });
            TransferException e = assertThrows(TransferException.class, () -> p.a.registerDevice(
                    refusing.label(noAccess.address(), length), true));
            System.out.println("refused as expected: " + e.getMessage());
            assertEquals(ErrorCategory.UNAVAILABLE, e.category(), e.getMessage());
            assertTrue(e.getMessage().contains("stub: no dma-buf export here"), e.getMessage());
            assertTrue(e.getMessage().contains("ibv_reg_mr_iova2"), e.getMessage());
            assertTrue(e.providerCode() != 0 && e.providerMessage() != null, "errno and its text: " + e.getMessage());

            // the real ibv_reg_dmabuf_mr refuses too (rxe), then the pointer: both errnos in one UNAVAILABLE
            int[] fd = {-1};
            LabellingDeviceBackend exporting = new LabellingDeviceBackend((a, l) -> fd[0] = notADmabuf());
            TransferException both = assertThrows(TransferException.class, () -> p.a.registerDevice(
                    exporting.label(noAccess.address(), length), false));
            System.out.println("refused as expected: " + both.getMessage());
            assertEquals(ErrorCategory.UNAVAILABLE, both.category(), both.getMessage());
            assertTrue(both.getMessage().contains("ibv_reg_dmabuf_mr"), both.getMessage());
            assertFalse(open(fd[0]), "fd closed");

            assertThrows(InvalidRequestException.class, () -> p.a.registerDevice(null, true));
            assertThrows(InvalidRequestException.class, () -> p.a.registerDevice(
                    refusing.label(noAccess.address(), 0, 0, noAccess.address(), length), true));

            // the domain still registers host memory
            RegisteredMemory host = p.a.register(p.buffer(4096), true);
            p.a.deregister(host);
        } finally {
            int rc = (int) MUNMAP.invokeExact(noAccess, length);
            assertEquals(0, rc, "munmap");
        }
    }
}
