package dev.transferengine.cuda;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.spi.Availability;
import dev.transferengine.spi.DeviceBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.MemorySegment;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * Where {@code libcuda.so.1} is missing (CI), CUDA reports unavailable with a cause that names the library,
 * and every entry point throws a typed {@link ProviderUnavailableException} instead of crashing. Skipped on
 * machines with a working driver, where the GPU tests cover the same entry points.
 */
class CudaUnavailableTest {
    private final CudaDeviceBackend backend = new CudaDeviceBackend();

    @BeforeAll
    static void onlyWithoutADriver() {
        assumeFalse(Cuda.isAvailable(), "CUDA is available here: CudaGpuTest covers these entry points");
    }

    @Test
    void unavailableWithACauseNamingTheLibrary() {
        ProviderUnavailableException cause = Cuda.unavailabilityCause();
        assertNotNull(cause);
        assertEquals(ErrorCategory.UNAVAILABLE, cause.category());
        assertTrue(cause.getMessage().contains("libcuda.so.1"), cause.getMessage());
        assertNotNull(cause.getCause(), "the loader's own error is kept as the cause");
        assertEquals(0, Cuda.deviceCount());
        assertEquals(0, Cuda.driverVersion());

        Availability availability = backend.availability();
        assertFalse(availability.available());
        assertTrue(availability.reason().contains("libcuda.so.1"), availability.reason());
        assertEquals(0, backend.deviceCount());
        assertEquals("cuda", backend.name());
    }

    @Test
    void theServiceLoaderFindsTheBackendWithoutLoadingTheDriver() {
        DeviceBackend found = ServiceLoader.load(DeviceBackend.class).findFirst().orElseThrow();
        assertTrue(found instanceof CudaDeviceBackend, found.toString());
        assertFalse(found.availability().available());
    }

    @Test
    void everyEntryPointThrowsProviderUnavailable() {
        expectUnavailable(() -> CudaDeviceMemory.allocate(0, 1 << 20));
        expectUnavailable(() -> CudaPinnedMemory.allocate(4096));
        expectUnavailable(() -> CudaStream.create(0));
        expectUnavailable(() -> CudaEvent.create(0));
        expectUnavailable(() -> CudaEvent.createTimed(0));
        expectUnavailable(() -> GpuSignalWatcher.create(16));
        expectUnavailable(() -> CudaIpc.handle(0x7f00_0000_0000L));
        expectUnavailable(() -> CudaIpc.open(new byte[CudaIpc.HANDLE_BYTES], 0));
        expectUnavailable(() -> Cuda.deviceName(0));
        expectUnavailable(() -> Cuda.attribute(0, Cuda.ATTRIBUTE_UNIFIED_ADDRESSING));
        expectUnavailable(() -> Cuda.pointerInfo(0x7f00_0000_0000L));
        expectUnavailable(() -> Cuda.makeCurrent(0));
        expectUnavailable(Cuda::ensureAvailable);
        expectUnavailable(() -> backend.checkRange(0, 0x7f00_0000_0000L, 4096));
        expectUnavailable(() -> backend.openCopyQueue(0));
        expectUnavailable(() -> backend.allocatePinnedHost(4096));
        expectUnavailable(() -> backend.exportDmabuf(0x7f00_0000_0000L, 1 << 21));
    }

    @Test
    void freeingASegmentTheBackendNeverAllocatedDoesNothing() {
        backend.freePinnedHost(MemorySegment.ofArray(new byte[16]));
        backend.freePinnedHost(null);
        Cuda.forgetCurrentContext();
    }

    private static void expectUnavailable(Executable call) {
        ProviderUnavailableException e = assertThrows(ProviderUnavailableException.class, call);
        assertTrue(e.getMessage().contains("libcuda.so.1"), e.getMessage());
    }
}
