package dev.transferengine.efa;

import dev.transferengine.testing.RecordingSink;
import dev.transferengine.testing.LabellingDeviceBackend;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.efa.internal.FiConst;
import dev.transferengine.efa.internal.LibfabricFabric;
import dev.transferengine.efa.internal.LibfabricLibrary;
import dev.transferengine.efa.internal.LibfabricSettings;
import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderDomain;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Device (FI_HMEM) registration with the libfabric at hand, which on CI and developer machines is Debian's or
 * Ubuntu's 1.17 without CUDA: shm grants FI_HMEM (so the domain may try: hostMemoryOnly false) but refuses a
 * FI_HMEM_CUDA registration with -FI_ENOSYS, which must surface as a typed UNAVAILABLE (the engine then stages
 * through host memory); tcp;ofi_rxm has no FI_HMEM (hostMemoryOnly true, registerDevice UNAVAILABLE without a
 * native call). The "device memory" is host memory labelled as CUDA device 0: never touched by the provider
 * because the registration is refused. With a CUDA-enabled libfabric on a GPU machine, see
 * {@code CudaDeviceRegistrationGpuTest}.
 */
class DeviceRegistrationTest {
    private static boolean cudaDriver;

    @BeforeAll
    static void libfabricPresent() {
        TestProviders.assumeLibfabric();
        // With a CUDA driver a CUDA-enabled libfabric may initialize CUDA and then reject the host address labelled
        // as device memory differently (or accept it): the refusal tests are for machines without one.
        try (Arena probe = Arena.ofConfined()) {
            java.lang.foreign.SymbolLookup.libraryLookup("libcuda.so.1", probe);
            cudaDriver = true;
        } catch (IllegalArgumentException e) {
            cudaDriver = false;
        }
    }

    @Test
    void shmWithHmemMayTryDeviceMemoryAndRefusesItAsUnavailableWithoutCuda() {
        try (Opened o = new Opened(TestProviders.SHM.with(LibfabricOptions.HMEM, "true"));
             Arena arena = Arena.ofConfined()) {
            assertFalse(o.domain.capabilities().hostMemoryOnly(), "shm grants FI_HMEM: " + o.info.description());
            assertTrue((mrMode(o.info) & FiConst.MrMode.FI_MR_HMEM) != 0, "FI_MR_HMEM with FI_HMEM: "
                    + o.info.description());
            MemorySegment fake = arena.allocate(1 << 16, 4096);
            assertRefusedAsUnavailable(o.domain, fake, true);
            assertRefusedAsUnavailable(o.domain, fake, false);
            hostMemoryStillWorks(o);
        }
    }

    @Test
    void engineCudaGroupsMakeAutoPickTheHmemEntry() {
        try (Opened o = new Opened(TestProviders.SHM.with(LibfabricOptions.CUDA_DEVICES, "0"));
             Arena arena = Arena.ofConfined()) {
            assertFalse(o.domain.capabilities().hostMemoryOnly(), o.info.description());
            assertRefusedAsUnavailable(o.domain, arena.allocate(4096, 4096), true);
        }
    }

    @Test
    void hostOnlyShmDoesNotOfferDeviceRegistration() {
        try (Opened o = new Opened(TestProviders.SHM.options); Arena arena = Arena.ofConfined()) {
            assertTrue(o.domain.capabilities().hostMemoryOnly(), o.info.description());
            TransferException e = assertThrows(TransferException.class, () -> o.domain.registerDevice(
                    LabellingDeviceBackend.labelled(arena.allocate(4096, 4096).address(), 4096, 0), true));
            assertEquals(ErrorCategory.UNAVAILABLE, e.category(), e.getMessage());
            assertTrue(e.getMessage().contains("FI_HMEM"), e.getMessage());
        }
    }

    @Test
    void tcpHasNoHmemAndSaysSo() {
        try (Opened o = new Opened(TestProviders.TCP.with(LibfabricOptions.HMEM, "true"));
             Arena arena = Arena.ofConfined()) {
            assertTrue(o.domain.capabilities().hostMemoryOnly(), "tcp;ofi_rxm 1.17 has no FI_HMEM: "
                    + o.info.description());
            TransferException e = assertThrows(TransferException.class, () -> o.domain.registerDevice(
                    LabellingDeviceBackend.labelled(arena.allocate(4096, 4096).address(), 4096, 0), true));
            assertEquals(ErrorCategory.UNAVAILABLE, e.category(), e.getMessage());
            hostMemoryStillWorks(o);
        }
    }

    @Test
    void emptyOrHostLabelledRangesAreRejectedBeforeNativeCode() {
        try (Opened o = new Opened(TestProviders.SHM.with(LibfabricOptions.HMEM, "true"))) {
            assertThrows(InvalidRequestException.class,
                    () -> o.domain.registerDevice(LabellingDeviceBackend.labelled(0x10000, 0, 0), true));
            assertThrows(InvalidRequestException.class,
                    () -> o.domain.registerDevice(LabellingDeviceBackend.labelled(0, 4096, 0), true));
            assertThrows(InvalidRequestException.class,
                    () -> o.domain.registerDevice(LabellingDeviceBackend.labelled(0x10000, 4096, -1), true));
            assertThrows(InvalidRequestException.class, () -> o.domain.registerDevice(null, true));
        }
    }

    private static void assertRefusedAsUnavailable(ProviderDomain domain, MemorySegment fake, boolean remoteWrite) {
        org.junit.jupiter.api.Assumptions.assumeFalse(cudaDriver, "libcuda.so.1 is present");
        TransferException e = assertThrows(TransferException.class, () -> domain.registerDevice(
                LabellingDeviceBackend.labelled(fake.address(), fake.byteSize(), 0), remoteWrite));
        System.out.println("refused as expected: " + e.getMessage());
        assertEquals(ErrorCategory.UNAVAILABLE, e.category(), e.getMessage());
        assertTrue(e.providerCode() == -FiConst.Err.FI_ENOSYS || e.providerCode() == -FiConst.Err.FI_EOPNOTSUPP,
                e.getMessage());
        assertTrue(e.getMessage().contains("fi_mr_regattr(FI_HMEM_CUDA"), e.getMessage());
        assertTrue(e.providerMessage() != null && !e.providerMessage().isBlank(), "fi_strerror text");
    }

    private static int mrMode(DomainInfo info) {
        String d = info.description();
        int i = d.indexOf("mr_mode=0x") + "mr_mode=0x".length();
        return Integer.parseInt(d.substring(i, d.indexOf(' ', i)), 16);
    }

    /** After a refused device registration the domain still registers and writes host memory. */
    private static void hostMemoryStillWorks(Opened o) {
        ProviderDomain b = o.fabric.openDomain(o.info);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(8192, 4096);
            MemorySegment dst = arena.allocate(8192, 4096);
            src.fill((byte) 0x3C);
            var srcMem = o.domain.register(src, false);
            var dstMem = b.register(dst, true);
            long peer = o.domain.resolvePeer(b.address());
            b.resolvePeer(o.domain.address());
            RecordingSink sinkA = new RecordingSink();
            RecordingSink sinkB = new RecordingSink();
            long deadline = System.nanoTime() + DomainPair.DEADLINE.toNanos();
            while (o.domain.postWrite(peer, srcMem, src.address(), 8192, dstMem.remoteBase(), dstMem.remoteKey(),
                    true, 42, 1) != ProviderDomain.POSTED) {
                o.domain.poll(sinkA, 16);
                b.poll(sinkB, 16);
                assertTrue(System.nanoTime() < deadline, "write kept returning RETRY");
            }
            while (sinkB.imms.isEmpty() || !sinkA.finished(1)) {
                o.domain.poll(sinkA, 16);
                b.poll(sinkB, 16);
                assertTrue(System.nanoTime() < deadline, "no imm");
                Thread.onSpinWait();
            }
            assertEquals(0x3C, dst.get(JAVA_BYTE, 8191));
            o.domain.deregister(srcMem);
            b.deregister(dstMem);
        } finally {
            b.close();
        }
    }

    /** A fabric and one domain on its first entry. */
    private static final class Opened implements AutoCloseable {
        final LibfabricFabric fabric;
        final DomainInfo info;
        final ProviderDomain domain;

        Opened(Map<String, String> options) {
            LibfabricSettings settings = LibfabricSettings.from(options);
            fabric = new LibfabricFabric(LibfabricLibrary.load(settings.libraryPath()), settings);
            info = fabric.domains().get(0);
            domain = fabric.openDomain(info);
        }

        @Override
        public void close() {
            domain.close();
            fabric.close();
        }
    }
}
