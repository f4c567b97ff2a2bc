package dev.transferengine.cuda;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceCopyQueue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Runs in a child JVM whose {@code te.cuda.library} is {@code native-headers/cuda/fake_libcuda.c} built as a
 * shared library (see {@link FakeDriverTest}), and drives every public entry point through the real downcalls.
 * Prints {@value #OK} when every check passed; any failure is an uncaught exception and exit status 1.
 */
public final class FakeDriverScenario {
    static final String OK = "FAKE-DRIVER-OK";
    private static final int MIB = 1 << 20;

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("unavailable")) {
            System.out.println("CAUSE " + Cuda.unavailabilityCause().getMessage());
            return;
        }
        check(Cuda.isAvailable(), "available: " + Cuda.unavailabilityCause());
        check(Cuda.driverVersion() == 13000 && Cuda.deviceCount() == 1, "version and count");
        check(Cuda.deviceName(0).equals("Fake CUDA Device"), Cuda.deviceName(0));
        check(Cuda.attribute(0, Cuda.ATTRIBUTE_UNIFIED_ADDRESSING) == 1041, "attribute argument order");
        expect(InvalidRequestException.class, () -> Cuda.deviceName(1));
        deviceMemory();
        checkRange();
        copyQueue();
        batchCopies();
        pinnedAndDmabufAndIpc();
        streamsEventsAndSignals();
        System.out.println(OK);
    }

    private static void deviceMemory() {
        byte[] pattern = new byte[100_000];
        Arrays.fill(pattern, (byte) 7);
        pattern[0] = 1;
        pattern[pattern.length - 1] = 2;
        CudaDeviceMemory memory = CudaDeviceMemory.allocate(0, MIB);
        memory.fill((byte) 0xa5);
        memory.copyFromHost(MemorySegment.ofArray(pattern), 100);
        byte[] back = new byte[pattern.length + 200];
        memory.copyToHost(0, MemorySegment.ofArray(back));
        check(back[99] == (byte) 0xa5 && back[100 + pattern.length] == (byte) 0xa5, "fill (unsigned char argument)");
        check(Arrays.equals(pattern, Arrays.copyOfRange(back, 100, 100 + pattern.length)), "round trip");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment nativeBuffer = arena.allocate(16);
            memory.copyToHost(100, nativeBuffer);
            check(nativeBuffer.get(JAVA_BYTE, 0) == 1, "native destination");
        }
        memory.close();
        memory.close();
        expect(ClosedException.class, () -> memory.copyFromHost(MemorySegment.ofArray(new byte[1]), 0));
        CudaException oom = expect(CudaException.class, () -> CudaDeviceMemory.allocate(0, 1L << 41));
        check(oom.result() == 2 && oom.category() == ErrorCategory.PROVIDER, "CUresult in the exception");
        check(oom.providerMessage().equals("CUDA_ERROR_OUT_OF_MEMORY: out of memory"), oom.providerMessage());
    }

    private static void checkRange() {
        CudaDeviceBackend backend = new CudaDeviceBackend();
        try (CudaDeviceMemory memory = CudaDeviceMemory.allocate(0, 4L * MIB); Arena arena = Arena.ofConfined()) {
            DeviceBackend.DeviceAllocation a = backend.checkRange(0, memory.address() + MIB, MIB);
            check(a.equals(new DeviceBackend.DeviceAllocation(0, memory.address(), 4L * MIB)), a.toString());
            message(() -> backend.checkRange(0, arena.allocate(4096).address(), 4096), "not device memory");
            message(() -> backend.checkRange(0, memory.address() + 3L * MIB, 2L * MIB), "runs past its allocation");
            message(() -> backend.checkRange(1, memory.address(), MIB), "does not exist");
            MemorySegment pinned = backend.allocatePinnedHost(MIB);
            message(() -> backend.checkRange(0, pinned.address(), MIB), "not device memory");
            backend.freePinnedHost(pinned);
            backend.freePinnedHost(pinned);
        }
        CudaDeviceMemory freed = CudaDeviceMemory.allocate(0, MIB);
        freed.close();
        message(() -> backend.checkRange(0, freed.address(), MIB), "not device memory");
    }

    /**
     * The fake's events say NOT_READY once after each record, which exercises FULL, the done counter and the lazy
     * events (one record covers every copy queued before it).
     */
    /** Three unrelated copies as one batch, one ticket; bad batches refused in Java before the driver. */
    private static void batchCopies() {
        try (CudaDeviceMemory src = CudaDeviceMemory.allocate(0, MIB); CudaDeviceMemory dst = CudaDeviceMemory.allocate(0, MIB);
             DeviceCopyQueue queue = new CudaDeviceBackend(1).openCopyQueue(0)) {
            byte[] pattern = new byte[MIB];
            for (int i = 0; i < MIB; i++) {
                pattern[i] = (byte) (i * 7 + 1);
            }
            src.copyFromHost(MemorySegment.ofArray(pattern), 0);
            dst.fill((byte) 0);
            check(queue.maxBatch() == 128, "batch size " + queue.maxBatch());
            long[] d = {dst.address() + 4096, dst.address(), dst.address() + 65536};
            long[] s = {src.address(), src.address() + 8192, src.address() + 100_000};
            long[] n = {1000, 4096, 30_000};
            expect(InvalidRequestException.class, () -> queue.copyBatch(d, s, n, 0, false));
            expect(InvalidRequestException.class, () -> queue.copyBatch(d, s, n, 129, false));
            long[] bad = {d[0], 0, d[2]};
            expect(InvalidRequestException.class, () -> queue.copyBatch(bad, s, n, 3, false));
            check(queue.outstanding() == 0, "a refused batch queues nothing");
            long ticket = queue.copyBatch(d, s, n, 3, false);
            check(ticket == 0 && queue.outstanding() == 1, "one ticket for the batch: " + ticket);
            check(!queue.isDone(0) && queue.isDone(0), "done after the (fake) event completes");
            byte[] back = new byte[MIB];
            dst.copyToHost(0, MemorySegment.ofArray(back));
            for (int c = 0; c < 3; c++) {
                int at = (int) (d[c] - dst.address());
                int from = (int) (s[c] - src.address());
                check(Arrays.equals(back, at, at + (int) n[c], pattern, from, from + (int) n[c]), "copy " + c);
            }
            check(back[4096 + 1000] == 0 && back[70_000 + 30_000 - 4000] == 0, "nothing past the copies");
            check(CudaBatchLaunch.kernels() == 0, "host memory possible (onDevice false): never the kernel");

            // On the device, source and destination at one offset within 16 bytes: the copy kernel, unless it did not
            // load.
            boolean kernelLoads = System.getenv("FAKE_CUDA_NO_KERNEL") == null;
            dst.fill((byte) 0);
            long[] ad = {dst.address() + 4096, dst.address(), dst.address() + 65536};
            long[] as = {src.address() + 16, src.address() + 8192, src.address() + 100_000};
            long[] an = {1008, 4096, 30_000};
            long second = queue.copyBatch(ad, as, an, 3, true);
            check(!queue.isDone(second) && queue.isDone(second), "second batch done");
            check(CudaBatchLaunch.kernels() == (kernelLoads ? 1 : 0), "kernel launches: " + CudaBatchLaunch.kernels());
            an[0] = 1000; // a length that is no multiple of 16, and addresses off by 3 on both sides: still the kernel
            ad[1] += 3;
            as[1] += 3;
            an[1] -= 3; // still ends where copy 0 begins
            long third = queue.copyBatch(ad, as, an, 3, true);
            check(!queue.isDone(third) && queue.isDone(third), "third batch done");
            check(CudaBatchLaunch.kernels() == (kernelLoads ? 2 : 0), "kernel launches: " + CudaBatchLaunch.kernels());
            as[2] += 1; // source and destination at different offsets within 16 bytes: the copy engines
            long fourth = queue.copyBatch(ad, as, an, 3, true);
            check(!queue.isDone(fourth) && queue.isDone(fourth), "fourth batch done");
            check(CudaBatchLaunch.kernels() == (kernelLoads ? 2 : 0), "a batch the kernel cannot take never runs as it");
            dst.copyToHost(0, MemorySegment.ofArray(back));
            for (int c = 0; c < 3; c++) {
                int at = (int) (ad[c] - dst.address());
                int from = (int) (as[c] - src.address());
                check(Arrays.equals(back, at, at + (int) an[c], pattern, from, from + (int) an[c]), "copy " + c);
            }
        }
    }

    private static void copyQueue() {
        try (CudaDeviceMemory src = CudaDeviceMemory.allocate(0, MIB); CudaDeviceMemory dst = CudaDeviceMemory.allocate(0, MIB);
             DeviceCopyQueue queue = new CudaDeviceBackend(2).openCopyQueue(0)) {
            src.fill((byte) 3);
            check(queue.copy(dst.address(), src.address(), 1000) == 0, "first ticket");
            check(queue.copy(dst.address() + 1000, src.address() + 1000, 1000) == 1, "second ticket");
            check(queue.outstanding() == 2, "two outstanding");
            check(queue.copy(dst.address(), src.address(), 10) == DeviceCopyQueue.FULL, "full ring");
            // The FULL check recorded one event after copy 1 and found it not ready (the fake's one NOT_READY);
            // with an event per copy, ticket 1's own event would answer NOT_READY now.
            check(queue.isDone(1) && queue.isDone(0) && queue.outstanding() == 0,
                    "one lazily recorded event covered both copies: done through ticket 1");
            check(queue.copy(dst.address(), src.address(), 10) == 2, "ring reused");
            byte[] back = new byte[2000];
            dst.copyToHost(0, MemorySegment.ofArray(back));
            for (byte b : back) {
                check(b == 3, "copied bytes");
            }
        }
    }

    private static void pinnedAndDmabufAndIpc() {
        try (CudaPinnedMemory pinned = CudaPinnedMemory.allocate(8192); CudaDeviceMemory memory = CudaDeviceMemory.allocate(0, 2L * MIB)) {
            check(pinned.deviceAddress() == pinned.hostAddress() && pinned.lengthBytes() == 8192, "pinned addresses");
            check(Cuda.pointerInfo(pinned.hostAddress() + 8).memoryType() == PointerInfo.MemoryType.HOST, "pinned is HOST");
            PointerInfo info = Cuda.pointerInfo(memory.address() + 5);
            check(info.isPlainDeviceMemory() && info.ordinal() == 0 && info.rangeStart() == memory.address()
                    && info.rangeBytes() == 2L * MIB, info.toString());
            PointerInfo unknown = Cuda.pointerInfo(0x1000);
            check(unknown.memoryType() == PointerInfo.MemoryType.UNKNOWN && unknown.ordinal() == -1, unknown.toString());

            int fd = new CudaDeviceBackend().exportDmabuf(memory.address(), 2L * MIB);
            check(fd >= 0, "dma-buf fd " + fd);
            message(() -> new CudaDeviceBackend().exportDmabuf(pinned.hostAddress(), 4096), "not device memory");

            byte[] handle = CudaIpc.handle(memory.address());
            check(handle.length == 64, "64-byte handle");
            try (CudaIpc.Mapping mapping = CudaIpc.open(CudaIpc.handleHex(memory.address()), 0)) {
                check(mapping.address() == memory.address(), "handle passed by value round-trips");
            }
            message(() -> CudaIpc.handle(pinned.hostAddress()), "not device memory");
        }
    }

    private static void streamsEventsAndSignals() throws InterruptedException {
        try (CudaStream stream = CudaStream.create(0); CudaEvent start = CudaEvent.createTimed(0);
             CudaEvent end = CudaEvent.createTimed(0); GpuSignalWatcher watcher = GpuSignalWatcher.create(4)) {
            start.record(stream);
            end.record(stream);
            check(!end.isDone(), "fake event not ready once");
            end.synchronize(Duration.ofSeconds(1));
            check(end.elapsedMillisSince(start) == 1.5f, "elapsed time out-parameter");
            check(stream.isIdle(), "stream idle");
            stream.synchronize(Duration.ofSeconds(1));

            GpuSignalWatcher.Signal signal = watcher.newSignal();
            CountDownLatch fired = new CountDownLatch(1);
            watcher.watch(signal, 7, fired::countDown);
            stream.waitValue64(signal.deviceAddress(), 0);
            stream.writeValue64(signal.deviceAddress(), 7);
            check(fired.await(5, TimeUnit.SECONDS), "watcher action after writeValue64");
            check(signal.value() == 7 && signal.seenNanos() > 0, "signal word");
        }
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    private static void message(Runnable call, String expected) {
        InvalidRequestException e = expect(InvalidRequestException.class, call);
        check(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    private static <T extends Throwable> T expect(Class<T> type, Runnable call) {
        try {
            call.run();
        } catch (Throwable t) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
            throw new AssertionError("expected " + type.getSimpleName() + ", got " + t, t);
        }
        throw new AssertionError("expected " + type.getSimpleName() + ", nothing thrown");
    }
}
