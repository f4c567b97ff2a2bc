package dev.transferengine.cuda;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.spi.DeviceCopyQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Bad arguments are rejected in Java, before any native call and before the driver is even needed: these
 * pass with or without CUDA. Objects built over no memory (package-private constructors) check that the
 * helpers validate before they touch the driver; they are never closed, as closing would call it.
 */
class ArgumentValidationTest {
    private static final long SOME_ADDRESS = 0x7f00_0000_0000L;
    private final CudaDeviceBackend backend = new CudaDeviceBackend();

    @Test
    void lengthsMustBePositive() {
        invalid(() -> CudaDeviceMemory.allocate(0, 0));
        invalid(() -> CudaDeviceMemory.allocate(0, -1));
        invalid(() -> CudaPinnedMemory.allocate(0));
        invalid(() -> CudaPinnedMemory.allocate(-4096));
        invalid(() -> GpuSignalWatcher.create(0));
        invalid(() -> backend.allocatePinnedHost(0));
        invalid(() -> backend.checkRange(0, SOME_ADDRESS, 0));
        invalid(() -> backend.checkRange(0, SOME_ADDRESS, -5));
        invalid(() -> backend.exportDmabuf(SOME_ADDRESS, 0));
    }

    @Test
    void rangesMustNotBeNullOrOverflow() {
        invalid(() -> backend.checkRange(0, 0, 4096));
        invalid(() -> backend.checkRange(0, Long.MAX_VALUE - 10, 100));
        invalid(() -> backend.checkRange(0, -4096, 100));
        invalid(() -> backend.exportDmabuf(Long.MAX_VALUE - 4095, 8192));
        invalid(() -> Cuda.pointerInfo(0));
        invalid(() -> CudaIpc.handle(0));
    }

    @Test
    void dmabufRangesMustBePageAligned() {
        invalid(() -> backend.exportDmabuf(SOME_ADDRESS + 1, 4096));
        invalid(() -> backend.exportDmabuf(SOME_ADDRESS, 4097));
    }

    @Test
    void ordinalsMustNotBeNegative() {
        invalid(() -> CudaDeviceMemory.allocate(-1, 4096));
        invalid(() -> CudaStream.create(-1));
        invalid(() -> CudaEvent.create(-1));
        invalid(() -> backend.checkRange(-1, SOME_ADDRESS, 4096));
        invalid(() -> backend.openCopyQueue(-1));
        invalid(() -> Cuda.deviceName(-1));
        invalid(() -> Cuda.attribute(0, -1));
        invalid(() -> CudaIpc.open(new byte[CudaIpc.HANDLE_BYTES], -1));
    }

    @Test
    void ipcHandlesHave64Bytes() {
        invalid(() -> CudaIpc.open(new byte[10], 0));
        invalid(() -> CudaIpc.open((byte[]) null, 0));
    }

    @Test
    void hostCopiesAreBoundsCheckedBeforeTheDriver() {
        CudaDeviceMemory memory = new CudaDeviceMemory(0, SOME_ADDRESS, 1024); // never closed: no real memory
        invalid(() -> memory.copyFromHost(MemorySegment.ofArray(new byte[1025]), 0));
        invalid(() -> memory.copyFromHost(MemorySegment.ofArray(new byte[16]), 1020));
        invalid(() -> memory.copyFromHost(MemorySegment.ofArray(new byte[16]), -1));
        invalid(() -> memory.copyFromHost(MemorySegment.ofArray(new byte[1]), Long.MAX_VALUE));
        invalid(() -> memory.copyToHost(1000, MemorySegment.ofArray(new byte[25])));
        invalid(() -> memory.copyToHost(-8, MemorySegment.ofArray(new byte[8])));
        invalid(() -> memory.copyToHost(0, MemorySegment.ofArray(new byte[8]).asReadOnly()));
    }

    @Test
    void streamOperationsAreCheckedBeforeTheDriver() {
        CudaStream stream = new CudaStream(0, 0); // never closed
        invalid(() -> stream.copy(SOME_ADDRESS, SOME_ADDRESS, 0));
        invalid(() -> stream.copy(0, SOME_ADDRESS, 64));
        invalid(() -> stream.copy(SOME_ADDRESS, Long.MAX_VALUE - 8, 64));
        invalid(() -> stream.writeValue64(SOME_ADDRESS + 4, 1));
        invalid(() -> stream.writeValue64(0, 1));
        invalid(() -> stream.waitValue64(SOME_ADDRESS + 1, 1));
    }

    @Test
    void copyQueueChecksRangesAndTickets() {
        DeviceCopyQueue queue = new CudaCopyQueue(0, 0, new long[4]); // never closed
        invalid(() -> queue.copy(SOME_ADDRESS, SOME_ADDRESS, -1));
        invalid(() -> queue.copy(0, SOME_ADDRESS, 64));
        invalid(() -> queue.copy(SOME_ADDRESS, Long.MAX_VALUE, 64));
        invalid(() -> queue.isDone(0));
        invalid(() -> queue.isDone(DeviceCopyQueue.FULL));
        long[] one = {SOME_ADDRESS};
        invalid(() -> queue.copyBatch(one, one, new long[] {64, 64}, 2, false)); // no batch launch here: batches of 1
        invalid(() -> queue.copyBatch(one, new long[] {0}, new long[] {64}, 1, true));
        invalid(() -> queue.copyBatch(one, one, new long[] {64}, 0, false));
    }

    private static void invalid(Executable call) {
        assertThrows(InvalidRequestException.class, call);
    }
}
