package dev.transferengine.verbs.internal;

import dev.transferengine.testing.LabellingDeviceBackend;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.DeviceMemory;
import dev.transferengine.verbs.internal.ProtectionDomain.Registration;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device-memory registration logic of the verbs provider ({@link DeviceRegistration}) on the host, without a
 * device: the native calls are a recording fake, the device backend a stub. Covers the argument checks (before any
 * native call or export), the page alignment of the exported range, the offset/iova arithmetic, the closing of the
 * dma-buf fd, the fallback order (dma-buf, then the device pointer) and the typed UNAVAILABLE refusal with both
 * causes. The same refusal through a real {@link VerbsDomain} runs in the Soft-RoCE guest
 * ({@code VerbsDeviceMemoryTest}): a domain cannot be opened on a host without an RDMA device.
 */
class DeviceRegistrationTest {
    private static final long PAGE = 4096;
    private static final long BASE = 0x7f12_3400_0000L; // a 2 MiB-aligned "device" allocation
    private static final long ALLOCATION = 2L << 20;
    private static final int ACCESS = Ibv.IBV_ACCESS_LOCAL_WRITE | Ibv.IBV_ACCESS_REMOTE_WRITE;
    private static final Registration MR = new Registration(MemorySegment.ofAddress(0xabc0), 0x11, 0x22);

    /** Records every native call; each answers with its configured errno (0 = success). */
    private static final class FakeCalls implements DeviceRegistration.Calls {
        int dmabufErrno;
        int addressErrno;
        final List<String> calls = new ArrayList<>();
        final List<Integer> closed = new ArrayList<>();
        long[] dmabufArgs;

        @Override
        public Registration registerDmabuf(long offset, long length, long iova, int fd, int access) {
            calls.add("ibv_reg_dmabuf_mr");
            dmabufArgs = new long[]{offset, length, iova, fd, access};
            if (dmabufErrno != 0) {
                throw NativeErrors.call("ibv_reg_dmabuf_mr(fake0, " + length + " bytes)", dmabufErrno);
            }
            return MR;
        }

        @Override
        public Registration registerAddress(long address, long length, int access) {
            calls.add("ibv_reg_mr_iova2");
            if (addressErrno != 0) {
                throw NativeErrors.call("ibv_reg_mr_iova2(fake0, " + length + " bytes)", addressErrno);
            }
            return MR;
        }

        @Override
        public int close(int fd) {
            closed.add(fd);
            return 0;
        }
    }

    private static DeviceRegistration.Result register(DeviceMemory m, FakeCalls calls) {
        return DeviceRegistration.register(m, ACCESS, PAGE, calls, "fake0");
    }

    @Test
    void dmaBufPathAlignsTheExportToPagesAndRegistersTheExactRangeAtItsDeviceAddress() {
        LabellingDeviceBackend backend = new LabellingDeviceBackend((a, l) -> 42);
        FakeCalls calls = new FakeCalls();
        long address = BASE + 0x5234;
        DeviceRegistration.Result r = register(backend.label(address, 0x3000, 0, BASE, ALLOCATION), calls);

        assertEquals(DeviceRegistration.Path.DMABUF, r.path());
        assertSame(MR, r.registration());
        assertEquals(1, backend.exports.size());
        assertArrayEquals(new long[]{BASE + 0x5000, 0x4000}, backend.exports.get(0), "page-aligned export");
        assertArrayEquals(new long[]{0x234, 0x3000, address, 42, ACCESS}, calls.dmabufArgs,
                "offset into the dma-buf, exact length, iova = device address, the fd, the access flags");
        assertEquals(List.of("ibv_reg_dmabuf_mr"), calls.calls, "no fallback after success");
        assertEquals(List.of(42), calls.closed, "the fd is closed after the registration");
    }

    @Test
    void alreadyAlignedRangesAreExportedAsTheyAre() {
        LabellingDeviceBackend backend = new LabellingDeviceBackend((a, l) -> 7);
        FakeCalls calls = new FakeCalls();
        register(backend.label(BASE, ALLOCATION, 3, BASE, ALLOCATION), calls);
        assertArrayEquals(new long[]{BASE, ALLOCATION}, backend.exports.get(0));
        assertEquals(0, calls.dmabufArgs[0], "offset 0");
    }

    @Test
    void exportRefusedAndPointerRefusedIsUnavailableWithBothCauses() {
        TransferException exportRefusal = new TransferException(ErrorCategory.UNAVAILABLE,
                "cuMemGetHandleForAddressRange(DMA_BUF_FD) failed: CUDA_ERROR_NOT_SUPPORTED");
        LabellingDeviceBackend backend = new LabellingDeviceBackend((a, l) -> {
            throw exportRefusal;
        });
        FakeCalls calls = new FakeCalls();
        calls.addressErrno = NativeErrors.EFAULT;
        TransferException e = assertThrows(TransferException.class,
                () -> register(backend.label(BASE, 1 << 20, 0, BASE, ALLOCATION), calls));
        System.out.println("refused as expected: " + e.getMessage());
        assertEquals(ErrorCategory.UNAVAILABLE, e.category(), e.getMessage());
        assertTrue(e.getMessage().contains("CUDA_ERROR_NOT_SUPPORTED"), "the export's cause: " + e.getMessage());
        assertTrue(e.getMessage().contains("ibv_reg_mr_iova2") && e.getMessage().contains("nvidia-peermem"),
                "the pointer path's cause: " + e.getMessage());
        assertEquals(NativeErrors.EFAULT, e.providerCode());
        assertEquals("Bad address", e.providerMessage(), "errno text from libc");
        assertSame(exportRefusal, e.getCause());
        assertEquals(1, e.getSuppressed().length);
        assertEquals(List.of("ibv_reg_mr_iova2"), calls.calls, "no ibv_reg_dmabuf_mr without an fd");
        assertTrue(calls.closed.isEmpty());
    }

    @Test
    void unsupportedDmabufRegistrationFallsBackToTheDevicePointer() {
        for (int errno : new int[]{NativeErrors.EOPNOTSUPP, NativeErrors.ENOSYS, NativeErrors.EPROTONOSUPPORT,
                NativeErrors.EINVAL}) {
            LabellingDeviceBackend backend = new LabellingDeviceBackend((a, l) -> 9);
            FakeCalls calls = new FakeCalls();
            calls.dmabufErrno = errno;
            DeviceRegistration.Result r = register(backend.label(BASE + PAGE, PAGE, 0, BASE, ALLOCATION), calls);
            assertEquals(DeviceRegistration.Path.DEVICE_POINTER, r.path(), "errno " + errno);
            assertEquals(List.of("ibv_reg_dmabuf_mr", "ibv_reg_mr_iova2"), calls.calls, "errno " + errno);
            assertEquals(List.of(9), calls.closed, "the fd is closed after a failed registration too");
        }
    }

    @Test
    void bothNativePathsRefusingNamesBothErrnos() {
        LabellingDeviceBackend backend = new LabellingDeviceBackend((a, l) -> 5);
        FakeCalls calls = new FakeCalls();
        calls.dmabufErrno = NativeErrors.EOPNOTSUPP;
        calls.addressErrno = NativeErrors.EFAULT;
        TransferException e = assertThrows(TransferException.class,
                () -> register(backend.label(BASE, PAGE, 0, BASE, ALLOCATION), calls));
        assertEquals(ErrorCategory.UNAVAILABLE, e.category());
        assertTrue(e.getMessage().contains("ibv_reg_dmabuf_mr") && e.getMessage().contains("Operation not supported"),
                e.getMessage());
        assertTrue(e.getMessage().contains("Bad address"), e.getMessage());
        assertEquals(NativeErrors.EOPNOTSUPP, ((TransferException) e.getCause()).providerCode());
        assertEquals(List.of(5), calls.closed);
    }

    @Test
    void otherDmabufFailuresAreProviderErrorsWithoutFallback() {
        LabellingDeviceBackend backend = new LabellingDeviceBackend((a, l) -> 6);
        FakeCalls calls = new FakeCalls();
        calls.dmabufErrno = NativeErrors.ENOMEM;
        TransferException e = assertThrows(TransferException.class,
                () -> register(backend.label(BASE, PAGE, 0, BASE, ALLOCATION), calls));
        assertEquals(ErrorCategory.PROVIDER, e.category(), e.getMessage());
        assertEquals(NativeErrors.ENOMEM, e.providerCode());
        assertEquals(List.of("ibv_reg_dmabuf_mr"), calls.calls);
        assertEquals(List.of(6), calls.closed);
    }

    @Test
    void rangesThatCannotBePageAlignedInsideTheirAllocationSkipTheExport() {
        // an allocation that is not a whole number of pages: the widened range would leave it
        LabellingDeviceBackend backend = new LabellingDeviceBackend((a, l) -> 3);
        FakeCalls calls = new FakeCalls();
        calls.addressErrno = NativeErrors.EFAULT;
        TransferException e = assertThrows(TransferException.class,
                () -> register(backend.label(BASE, 100, 0, BASE, 100), calls));
        assertEquals(ErrorCategory.UNAVAILABLE, e.category());
        assertTrue(e.getMessage().contains("cannot be widened to 4096-byte pages"), e.getMessage());
        assertTrue(backend.exports.isEmpty(), "nothing exported");
        assertNull(DeviceRegistration.pageAligned(BASE + 8, 16, new dev.transferengine.spi.DeviceBackend
                .DeviceAllocation(0, BASE + 8, 4096), PAGE), "allocation base not page-aligned");
        assertArrayEquals(new long[]{BASE, 2 * PAGE}, DeviceRegistration.pageAligned(BASE + 4000, 200,
                new dev.transferengine.spi.DeviceBackend.DeviceAllocation(0, BASE, ALLOCATION), PAGE));
    }

    @Test
    void backendsWithoutDmabufSupportFallBackToo() {
        LabellingDeviceBackend backend = new LabellingDeviceBackend((a, l) -> {
            throw new UnsupportedOperationException("no dma-buf here");
        });
        FakeCalls calls = new FakeCalls();
        assertEquals(DeviceRegistration.Path.DEVICE_POINTER,
                register(backend.label(BASE, PAGE, 0, BASE, ALLOCATION), calls).path());
        LabellingDeviceBackend negative = new LabellingDeviceBackend((a, l) -> -1);
        FakeCalls calls2 = new FakeCalls();
        assertEquals(DeviceRegistration.Path.DEVICE_POINTER,
                register(negative.label(BASE, PAGE, 0, BASE, ALLOCATION), calls2).path());
        assertTrue(calls2.closed.isEmpty(), "no close of a negative fd");
    }

    @Test
    void badRangesAreRejectedBeforeAnyExportOrNativeCall() {
        LabellingDeviceBackend backend = new LabellingDeviceBackend((a, l) -> {
            throw new AssertionError("exported a rejected range");
        });
        List<DeviceMemory> bad = Arrays.asList(
                null,
                backend.label(BASE, 0, 0, BASE, ALLOCATION),                       // empty
                backend.label(BASE, -4096, 0, BASE, ALLOCATION),                   // negative length
                backend.label(0, 4096, 0, 0, ALLOCATION),                          // null pointer
                backend.label(BASE, 4096, -1, BASE, ALLOCATION),                   // no device
                backend.label(BASE + ALLOCATION - 4096, 8192, 0, BASE, ALLOCATION), // runs past the allocation
                backend.label(BASE - 4096, 4096, 0, BASE, ALLOCATION),             // before the allocation
                backend.label(-4096, 8192, 0, -4096, 8192),                        // wraps around
                new DeviceMemory(BASE, 4096, 0, null, backend),                   // no allocation
                new DeviceMemory(BASE, 4096, 0, new dev.transferengine.spi.DeviceBackend.DeviceAllocation(1, BASE,
                        ALLOCATION), backend),                                     // another device's allocation
                new DeviceMemory(BASE, 4096, 0, new dev.transferengine.spi.DeviceBackend.DeviceAllocation(0, BASE,
                        ALLOCATION), null));                                       // no backend
        for (DeviceMemory m : bad) {
            FakeCalls calls = new FakeCalls();
            InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> register(m, calls),
                    String.valueOf(m));
            assertTrue(e.getMessage().startsWith("verbs: "), e.getMessage());
            assertTrue(calls.calls.isEmpty(), "no native call for " + m);
        }
    }
}
