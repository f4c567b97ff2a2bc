package dev.transferengine.testing;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.Availability;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceCopyQueue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A {@link DeviceBackend} test double whose "device memory" is host memory it allocated itself, so the engine's
 * device paths (range checks, copy queues, staging, imm-after-copy) run on machines without a GPU. It is
 * strict where CUDA is: only ranges inside one of its allocations are device memory, of the ordinal they
 * were allocated for. Copies are really asynchronous in the way that matters: a queued copy is carried out
 * only when {@link DeviceCopyQueue#isDone} is asked about it the second time, so an engine that publishes an
 * imm before the copy is done is caught by the bytes. A queue holds at most {@link #QUEUE_CAPACITY} launches; with
 * {@link #batchLaunches} above 1 a launch may be a batch of that many copies (as with {@code cuMemcpyBatchAsync}).
 */
public final class HostDeviceBackend implements DeviceBackend, TestDevice.Allocator {
    public static final int QUEUE_CAPACITY = 8;

    private record Allocation(int ordinal, long base, long length, Arena arena) {
    }

    private final int devices;
    private final ConcurrentSkipListMap<Long, Allocation> allocations = new ConcurrentSkipListMap<>();
    private final Map<Long, Arena> pinned = new ConcurrentHashMap<>();

    /** Launches queued on this backend's queues (a copy or a batch of them: each a launch on a real device). */
    public final java.util.concurrent.atomic.AtomicLong copiesQueued = new java.util.concurrent.atomic.AtomicLong();
    /** Copies one launch of a queue opened from now on may take (1, the default: no batch launch). */
    public volatile int batchLaunches = 1;

    public HostDeviceBackend(int devices) {
        this.devices = devices;
    }

    @Override
    public String name() {
        return "host-test-double";
    }

    @Override
    public Availability availability() {
        return Availability.yes();
    }

    @Override
    public int deviceCount() {
        return devices;
    }

    /** Allocates "device memory" of {@code ordinal} (host memory this double treats as device memory). */
    @Override
    public long allocate(int ordinal, long bytes) {
        Arena arena = Arena.ofShared();
        MemorySegment s = arena.allocate(bytes, 256);
        allocations.put(s.address(), new Allocation(ordinal, s.address(), bytes, arena));
        return s.address();
    }

    @Override
    public void free(long base) {
        Allocation a = allocations.remove(base);
        if (a != null) {
            a.arena().close();
        }
    }

    @Override
    public void upload(long deviceAddress, MemorySegment host) {
        MemorySegment.copy(host, 0, view(deviceAddress, host.byteSize()), 0, host.byteSize());
    }

    @Override
    public void download(long deviceAddress, MemorySegment host) {
        MemorySegment.copy(view(deviceAddress, host.byteSize()), 0, host, 0, host.byteSize());
    }

    private MemorySegment view(long address, long length) {
        checkRange(ordinalOf(address), address, length);
        return MemorySegment.ofAddress(address).reinterpret(length);
    }

    private int ordinalOf(long address) {
        Map.Entry<Long, Allocation> e = allocations.floorEntry(address);
        if (e == null) {
            throw new InvalidRequestException("not device memory: 0x" + Long.toHexString(address));
        }
        return e.getValue().ordinal();
    }

    @Override
    public DeviceAllocation checkRange(int ordinal, long address, long lengthBytes) {
        if (lengthBytes <= 0) {
            throw new InvalidRequestException("length must be > 0");
        }
        Map.Entry<Long, Allocation> e = allocations.floorEntry(address);
        if (e == null || address - e.getKey() >= e.getValue().length()) {
            throw new InvalidRequestException("0x" + Long.toHexString(address) + " is not device memory");
        }
        Allocation a = e.getValue();
        if (a.ordinal() != ordinal) {
            throw new InvalidRequestException("0x" + Long.toHexString(address) + " is memory of device " + a.ordinal()
                    + ", not of device " + ordinal);
        }
        if (lengthBytes > a.length() - (address - a.base())) {
            throw new InvalidRequestException("range runs past its allocation [0x" + Long.toHexString(a.base())
                    + ", +" + a.length() + ")");
        }
        return new DeviceAllocation(ordinal, a.base(), a.length());
    }

    @Override
    public DeviceCopyQueue openCopyQueue(int ordinal) {
        if (ordinal < 0 || ordinal >= devices) {
            throw new InvalidRequestException("no device " + ordinal);
        }
        return new LazyCopyQueue(copiesQueued, batchLaunches);
    }

    @Override
    public MemorySegment allocatePinnedHost(long bytes) {
        Arena arena = Arena.ofShared();
        MemorySegment s = arena.allocate(bytes, 4096);
        pinned.put(s.address(), arena);
        return s;
    }

    @Override
    public void freePinnedHost(MemorySegment segment) {
        Arena a = pinned.remove(segment.address());
        if (a != null) {
            a.close();
        }
    }

    /** Marks handles of this JVM: the double's "IPC" maps them to the same address (real CUDA refuses its own). */
    private static final long PROCESS_TOKEN = new java.security.SecureRandom().nextLong() | 1;
    private final Map<Long, Boolean> openMappings = new ConcurrentHashMap<>();

    /** Handle = the allocation's base and this JVM's token; only this JVM can "open" it (same address space). */
    @Override
    public byte[] exportIpc(long allocationBase) {
        checkRange(ordinalOf(allocationBase), allocationBase, 1);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(64);
        b.putLong(allocationBase).putLong(PROCESS_TOKEN);
        return b.array();
    }

    @Override
    public long openIpc(byte[] handle, int ordinal) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(handle);
        long base = b.getLong();
        if (handle.length != 64 || b.getLong() != PROCESS_TOKEN || !allocations.containsKey(base)) {
            throw new TransferException(ErrorCategory.UNAVAILABLE, "the test double opens only its own live handles");
        }
        openMappings.put(base, Boolean.TRUE);
        ipcOpens.incrementAndGet();
        return base;
    }

    @Override
    public void closeIpc(long mappedBase) {
        openMappings.remove(mappedBase);
    }

    /** How many IPC handles were opened (tests: the IPC path was taken). */
    public final java.util.concurrent.atomic.AtomicInteger ipcOpens = new java.util.concurrent.atomic.AtomicInteger();

    /** IPC mappings still open (leak checks). */
    public int openIpcMappings() {
        return openMappings.size();
    }

    /** Pinned host buffers not freed yet (leak checks). */
    public int pinnedBuffers() {
        return pinned.size();
    }

    @Override
    public int exportDmabuf(long address, long lengthBytes) {
        throw new TransferException(ErrorCategory.UNAVAILABLE, "the host test double has no dma-buf");
    }

    /** Copies {@code 0 .. count - 1} of a batch as {destination, source, length} triples, one after another. */
    public static long[] triples(long[] destinations, long[] sources, long[] lengths, int count) {
        long[] t = new long[3 * count];
        for (int i = 0; i < count; i++) {
            t[3 * i] = destinations[i];
            t[3 * i + 1] = sources[i];
            t[3 * i + 2] = lengths[i];
        }
        return t;
    }

    /**
     * Copies happen when {@link #isDone} is asked about them a second time, in queue order; the copies of one batch
     * in reverse order (a batch promises no order).
     */
    private static final class LazyCopyQueue implements DeviceCopyQueue {
        /** Per launch: {destination, source, length} per copy. */
        private final long[][] launches = new long[QUEUE_CAPACITY][];
        private final boolean[] asked = new boolean[QUEUE_CAPACITY];
        private long nextTicket = 1;
        private long doneUpTo; // every ticket <= doneUpTo is copied
        private boolean closed;
        private final java.util.concurrent.atomic.AtomicLong queued;
        private final int maxBatch;

        LazyCopyQueue(java.util.concurrent.atomic.AtomicLong queued, int maxBatch) {
            this.queued = queued;
            this.maxBatch = maxBatch;
        }

        @Override
        public long copy(long destination, long source, long lengthBytes) {
            return launch(new long[] {destination, source, lengthBytes});
        }

        @Override
        public int maxBatch() {
            return maxBatch;
        }

        @Override
        public long copyBatch(long[] destinations, long[] sources, long[] lengths, int count,
                              boolean onDevice) {
            DeviceCopyQueue.requireBatch(count, maxBatch);
            return launch(triples(destinations, sources, lengths, count));
        }

        private long launch(long[] copies) {
            if (closed) {
                throw new TransferException(ErrorCategory.CLOSED, "copy queue closed");
            }
            if (nextTicket - 1 - doneUpTo >= QUEUE_CAPACITY) {
                return FULL;
            }
            int i = (int) (nextTicket % QUEUE_CAPACITY);
            launches[i] = copies;
            asked[i] = false;
            queued.incrementAndGet();
            return nextTicket++;
        }

        @Override
        public boolean isDone(long ticket) {
            if (ticket <= doneUpTo) {
                return true;
            }
            int i = (int) (ticket % QUEUE_CAPACITY);
            if (!asked[i]) {
                asked[i] = true;
                return false;
            }
            while (doneUpTo < ticket) {
                doCopy(++doneUpTo);
            }
            return true;
        }

        private void doCopy(long ticket) {
            long[] c = launches[(int) (ticket % QUEUE_CAPACITY)];
            for (int k = c.length - 3; k >= 0; k -= 3) {
                MemorySegment.copy(MemorySegment.ofAddress(c[k + 1]).reinterpret(c[k + 2]), 0,
                        MemorySegment.ofAddress(c[k]).reinterpret(c[k + 2]), 0, c[k + 2]);
            }
        }

        @Override
        public int outstanding() {
            return (int) (nextTicket - 1 - doneUpTo);
        }

        @Override
        public void close() {
            if (!closed) {
                while (doneUpTo < nextTicket - 1) {
                    doCopy(++doneUpTo);
                }
                closed = true;
            }
        }
    }
}
