package dev.transferengine.conformance;

import dev.transferengine.api.Access;
import dev.transferengine.api.ClosedException;
import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.ImmAccounting;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.testing.TestDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Device (GPU) memory through the engine, written once and run per provider and per device: the host-memory
 * double in CI ({@link TestDevice#hostDouble()}), a real GPU with {@code ./te gpu-test}. Sources and targets
 * in host and device memory, single and paged writes with imms, writes longer than a staging slot, a window
 * of writes of random sizes, and every bad pointer a caller can pass. Bytes are verified by copying device
 * memory back to the host; completion on the receiver is learnt only by counting imms.
 *
 * <p>A subclass names the provider ({@link #newEngineBuilder}), the device ({@link #device()}) and whether
 * the provider's NICs write device memory directly ({@link #directDeviceTargets()}) or through a staged host
 * shadow.
 */
public abstract class DeviceMemoryConformanceSuite {
    /** Staging slot used by these tests: small, so writes of a few hundred KiB go in several pieces. */
    protected static final long SLOT_BYTES = 64 << 10;

    private final List<TransferEngine> engines = new ArrayList<>();
    private final List<Long> deviceAllocations = new ArrayList<>();
    private final Arena arena = Arena.ofShared();
    private final Random random = new Random(0xD1CE);
    private TestDevice device;

    /** The provider and its options (the suite adds the CUDA group, the backend and the staging sizes). */
    protected abstract TransferEngine.Builder newEngineBuilder();

    /** The device the tests use. Called once per test. */
    protected abstract TestDevice device();

    /**
     * Whether the provider's NICs write device memory directly (true), or peers write into a pinned host shadow
     * that {@link MemoryRegion#flush} copies to the GPU (false: a staged target). The tests call flush after
     * their imm counts either way, as applications should.
     */
    protected abstract boolean directDeviceTargets();

    @AfterEach
    void tearDown() {
        for (TransferEngine e : engines) {
            e.close();
        }
        if (device != null) {
            for (long base : deviceAllocations) {
                device.allocator().free(base);
            }
        }
        arena.close();
    }

    private TestDevice dev() {
        if (device == null) {
            device = device();
        }
        return device;
    }

    private TransferEngine engine(String role, int nics) {
        TestDevice d = dev();
        TransferEngine e = newEngineBuilder()
                .name("dev-" + role + "-" + engines.size())
                .addGroup(GroupSpec.ofNics(nics).withCudaDevice(d.ordinal()))
                .deviceBackend(d.backend())
                .providerOption("staging.slotBytes", Long.toString(SLOT_BYTES))
                .providerOption("staging.slots", "3")
                .build();
        engines.add(e);
        return e;
    }

    /** Zeroed device memory of {@code len} bytes registered on {@code b} for remote writes. */
    private Target zeroedTarget(TransferEngine b, long len) {
        long ptr = deviceAlloc(len);
        dev().allocator().upload(ptr, arena.allocate(len, 64)); // zeroes
        return new Target(ptr, b.registerDevice(ptr, len, dev().ordinal(), Access.REMOTE_WRITE));
    }

    private record Target(long ptr, MemoryRegion region) {
    }

    private long deviceAlloc(long bytes) {
        long base = dev().allocator().allocate(dev().ordinal(), bytes);
        deviceAllocations.add(base);
        return base;
    }

    private MemorySegment pattern(long bytes) {
        MemorySegment s = arena.allocate(bytes, 64);
        byte[] b = new byte[(int) bytes];
        random.nextBytes(b);
        MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 0, b.length);
        return s;
    }

    private byte[] deviceBytes(long address, long length) {
        MemorySegment host = arena.allocate(length, 64);
        dev().allocator().download(address, host);
        return host.toArray(ValueLayout.JAVA_BYTE);
    }

    private static byte[] slice(MemorySegment s, long offset, long length) {
        return s.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE);
    }

    /** Device memory filled with a random pattern, registered LOCAL on {@code e}; returns region and pattern. */
    private record Filled(MemoryRegion region, MemorySegment pattern) {
    }

    private Filled deviceSource(TransferEngine e, long bytes) {
        long ptr = deviceAlloc(bytes);
        MemorySegment p = pattern(bytes);
        dev().allocator().upload(ptr, p);
        return new Filled(e.registerDevice(ptr, bytes, dev().ordinal(), Access.LOCAL), p);
    }

    private void await(ImmCounter counter, long n) {
        counter.await(n, Waits.DEADLINE);
    }

    @ParameterizedTest(name = "{0} NICs")
    @ValueSource(ints = {1, 2})
    void deviceToHostSingleWriteWithImm(int nics) {
        TransferEngine a = engine("A", nics);
        TransferEngine b = engine("B", nics);
        long len = 300_001; // several staging slots, odd length
        Filled src = deviceSource(a, len);
        MemorySegment dst = arena.allocate(len + 128, 64);
        MemoryRegion target = b.register(dst, Access.REMOTE_WRITE);
        int imm = ConformanceBase.nextImm();
        ImmCounter landed = b.immCounter(imm);
        SingleWrite w = SingleWrite.withImm(src.region(), 1, len - 1, target.descriptor(), 64, imm);
        Waits.get(a.submit(w), "device->host write");
        await(landed, ImmAccounting.immsProduced(w, nics));
        assertArrayEquals(slice(src.pattern(), 1, len - 1), slice(dst, 64, len - 1), "device->host bytes");
        assertEquals(0, dst.get(ValueLayout.JAVA_BYTE, 63), "byte before the target range untouched");
        assertEquals(ImmAccounting.immsProduced(w, nics), landed.arrived(), "one imm per shard, no more");
    }

    @ParameterizedTest(name = "{0} NICs")
    @ValueSource(ints = {1, 2})
    void hostToDeviceAndDeviceToDevice(int nics) {
        TransferEngine a = engine("A", nics);
        TransferEngine b = engine("B", nics);
        long len = 1 << 20;
        Target t = zeroedTarget(b, len);
        long dstPtr = t.ptr();
        MemoryRegion targetRegion = t.region();
        RemoteRegion target = targetRegion.descriptor();
        MemorySegment hostSrc = pattern(len / 2);
        MemoryRegion hostRegion = a.register(hostSrc, Access.LOCAL);
        Filled devSrc = deviceSource(a, len / 2);
        int imm = ConformanceBase.nextImm();
        ImmCounter landed = b.immCounter(imm);
        SingleWrite h2d = SingleWrite.withImm(hostRegion, 0, len / 2, target, 0, imm);
        SingleWrite d2d = SingleWrite.withImm(devSrc.region(), 0, len / 2, target, len / 2, imm);
        CompletableFuture<Void> f1 = a.submit(h2d);
        CompletableFuture<Void> f2 = a.submit(d2d);
        Waits.get(f1, "host->device");
        Waits.get(f2, "device->device");
        await(landed, ImmAccounting.immsProduced(h2d, nics) * 2);
        targetRegion.flush(0, len, Waits.DEADLINE);
        byte[] got = deviceBytes(dstPtr, len);
        assertArrayEquals(hostSrc.toArray(ValueLayout.JAVA_BYTE), java.util.Arrays.copyOfRange(got, 0, (int) len / 2),
                "host->device bytes");
        assertArrayEquals(devSrc.pattern().toArray(ValueLayout.JAVA_BYTE),
                java.util.Arrays.copyOfRange(got, (int) len / 2, (int) len), "device->device bytes");
    }

    /**
     * Pages in order on both sides, the KV hand-off's common shape: loopback merges their copies into few launches
     * (CoalescingCopyQueue); every page must land and deliver its imm once.
     */
    @ParameterizedTest(name = "{0} NICs")
    @ValueSource(ints = {1, 2})
    void pagedWriteInOrderFromDeviceLandsEveryPageAndImm(int nics) {
        TransferEngine a = engine("A", nics);
        TransferEngine b = engine("B", nics);
        long page = 8 << 10;
        int pages = 64;
        Filled src = deviceSource(a, page * pages);
        long dstLen = page * (pages + 3);
        Target t = zeroedTarget(b, dstLen);
        long dstPtr = t.ptr();
        MemoryRegion targetRegion = t.region();
        int[] srcPages = new int[pages];
        int[] dstPages = new int[pages];
        for (int i = 0; i < pages; i++) {
            srcPages[i] = i;
            dstPages[i] = i + 3; // in order, shifted: contiguous on both sides
        }
        int imm = ConformanceBase.nextImm();
        ImmCounter landed = b.immCounter(imm);
        PagedWrite w = new PagedWrite(page, src.region(), srcPages, page, 0, targetRegion.descriptor(), dstPages,
                page, 0, OptionalInt.of(imm));
        for (int round = 0; round < 3; round++) {
            Waits.get(a.submit(w), "paged write");
        }
        await(landed, 3L * pages);
        targetRegion.flush(0, dstLen, Waits.DEADLINE);
        byte[] got = deviceBytes(dstPtr, dstLen);
        assertArrayEquals(new byte[(int) (3 * page)], java.util.Arrays.copyOfRange(got, 0, (int) (3 * page)),
                "nothing before the first page");
        assertArrayEquals(slice(src.pattern(), 0, page * pages),
                java.util.Arrays.copyOfRange(got, (int) (3 * page), (int) dstLen), "every page in place");
        assertEquals(3L * pages, landed.arrived(), "one imm per page and round");
    }

    @ParameterizedTest(name = "{0} NICs")
    @ValueSource(ints = {1, 2})
    void pagedWriteFromDevice(int nics) {
        TransferEngine a = engine("A", nics);
        TransferEngine b = engine("B", nics);
        long page = 16 << 10;
        int pages = 24;
        Filled src = deviceSource(a, page * pages);
        long dstLen = page * pages * 2;
        Target t = zeroedTarget(b, dstLen);
        long dstPtr = t.ptr();
        MemoryRegion targetRegion = t.region();
        RemoteRegion target = targetRegion.descriptor();
        int[] srcPages = new int[pages];
        int[] dstPages = new int[pages];
        for (int i = 0; i < pages; i++) {
            srcPages[i] = i;
            dstPages[i] = pages * 2 - 1 - 2 * i; // reversed, every other page
        }
        int imm = ConformanceBase.nextImm();
        ImmCounter landed = b.immCounter(imm);
        PagedWrite w = new PagedWrite(page, src.region(), srcPages, page, 0, target, dstPages, page, 0,
                OptionalInt.of(imm));
        Waits.get(a.submit(w), "paged write");
        await(landed, pages);
        targetRegion.flush(0, dstLen, Waits.DEADLINE);
        byte[] got = deviceBytes(dstPtr, dstLen);
        for (int i = 0; i < pages; i++) {
            assertArrayEquals(slice(src.pattern(), i * page, page),
                    java.util.Arrays.copyOfRange(got, (int) (dstPages[i] * page), (int) ((dstPages[i] + 1) * page)),
                    "page " + i);
        }
        assertEquals(pages, landed.arrived(), "one imm per page");
    }

    @Test
    void windowOfRandomWritesFromDevice() {
        TransferEngine a = engine("A", 2);
        TransferEngine b = engine("B", 2);
        long len = 2 << 20;
        Filled src = deviceSource(a, len);
        long dstPtr = deviceAlloc(len);
        MemoryRegion targetRegion = b.registerDevice(dstPtr, len, dev().ordinal(), Access.REMOTE_WRITE);
        RemoteRegion target = targetRegion.descriptor();
        int imm = ConformanceBase.nextImm();
        ImmCounter landed = b.immCounter(imm);
        TransferCounter done = new TransferCounter();
        int writes = 200;
        long expectedImms = 0;
        // Disjoint destination ranges (slots of len / writes), random source offsets and lengths.
        long slot = len / writes;
        long[] srcOff = new long[writes];
        long[] lens = new long[writes];
        for (int i = 0; i < writes; i++) {
            lens[i] = 1 + random.nextInt((int) slot);
            srcOff[i] = random.nextLong(len - lens[i]);
            SingleWrite w = SingleWrite.withImm(src.region(), srcOff[i], lens[i], target, i * slot, imm);
            expectedImms += ImmAccounting.immsProduced(w, 2);
            a.submit(w, done);
        }
        done.await(writes, Waits.DEADLINE);
        assertEquals(0, done.failed(), "no write failed: " + done.firstError());
        await(landed, expectedImms);
        targetRegion.flush(0, len, Waits.DEADLINE);
        byte[] got = deviceBytes(dstPtr, len);
        for (int i = 0; i < writes; i++) {
            assertArrayEquals(slice(src.pattern(), srcOff[i], lens[i]),
                    java.util.Arrays.copyOfRange(got, (int) (i * slot), (int) (i * slot + lens[i])), "write " + i);
        }
    }

    @Test
    void badPointersAreRefusedBeforeAnyNic() {
        TransferEngine a = engine("A", 1);
        int ordinal = dev().ordinal();
        long ptr = deviceAlloc(1 << 16);
        MemorySegment host = arena.allocate(4096);
        assertThrows(InvalidRequestException.class,
                () -> a.registerDevice(host.address(), 4096, ordinal, Access.LOCAL), "host memory claimed as device");
        assertThrows(InvalidRequestException.class,
                () -> a.registerDevice(ptr, (1 << 16) + 1, ordinal, Access.LOCAL), "range past the allocation");
        assertThrows(InvalidRequestException.class,
                () -> a.registerDevice(ptr + 100, 1 << 16, ordinal, Access.LOCAL), "offset range past the allocation");
        assertThrows(InvalidRequestException.class,
                () -> a.registerDevice(ptr, 0, ordinal, Access.LOCAL), "empty range");
        assertThrows(InvalidRequestException.class,
                () -> a.registerDevice(ptr, -5, ordinal, Access.LOCAL), "negative length");
        assertThrows(InvalidRequestException.class,
                () -> a.registerDevice(0, 4096, ordinal, Access.LOCAL), "null pointer");
        assertThrows(InvalidRequestException.class,
                () -> a.registerDevice(ptr, 4096, ordinal + 7, Access.LOCAL), "no group for that device");
        assertThrows(InvalidRequestException.class,
                () -> a.registerDevice(-4096, 8192, ordinal, Access.LOCAL), "range wrapping the address space");
        long freed = dev().allocator().allocate(ordinal, 1 << 16);
        dev().allocator().free(freed);
        assertThrows(InvalidRequestException.class,
                () -> a.registerDevice(freed, 4096, ordinal, Access.LOCAL), "freed device memory");
        // The engine is still fine, and a good registration of a sub-range works.
        MemoryRegion r = a.registerDevice(ptr + 4096, 8192, ordinal, Access.LOCAL);
        assertEquals(ptr + 4096, r.address());
        assertEquals(8192, r.lengthBytes());
        assertEquals(ordinal, r.device().index());
        assertEquals(0, r.segment().byteSize(), "device memory has no host view");
        r.close();
    }

    @Test
    void deviceTargetsRegisterOnEveryNicDirectOrStaged() {
        TransferEngine b = engine("B", 2);
        long ptr = deviceAlloc(1 << 16);
        MemoryRegion r = b.registerDevice(ptr, 1 << 16, dev().ordinal(), Access.REMOTE_WRITE);
        assertEquals(!directDeviceTargets(), r.isStaged(), "staged exactly where the NICs cannot write GPU memory");
        RemoteRegion d = r.descriptor();
        assertEquals(2, d.nics().size(), "one key per NIC");
        assertEquals(ptr, d.baseAddress());
        assertEquals(1 << 16, d.lengthBytes());
        assertEquals(d, RemoteRegion.fromHex(d.toHex()), "device descriptors encode like host ones");
        assertThrows(InvalidRequestException.class, () -> r.flush(1, 1 << 16, Waits.DEADLINE), "flush past the end");
        assertThrows(InvalidRequestException.class, () -> r.flush(-1, 10, Waits.DEADLINE), "negative offset");
        r.flush(0, 0, Waits.DEADLINE); // empty: fine
        if (r.isStaged()) {
            // Its NIC registrations cover the shadow, not the GPU memory: it cannot be a write source.
            assertThrows(InvalidRequestException.class, () -> b.submit(SingleWrite.of(r, 0, 16, d, 0)));
            MemoryRegion local = b.registerDevice(ptr, 1 << 16, dev().ordinal(), Access.LOCAL);
            assertTrue(local.isOpen() && !local.isStaged(), "the same memory as a source is fine");
        }
        r.close();
        assertTrue(!r.isOpen());
        assertThrows(ClosedException.class, () -> r.flush(0, 16, Waits.DEADLINE));
    }

    @Test
    void closeWithDeviceWritesInFlightCompletesEachOnce() {
        TransferEngine a = engine("A", 2);
        TransferEngine b = engine("B", 2);
        long len = 1 << 20;
        Filled src = deviceSource(a, len);
        MemorySegment hostDst = arena.allocate(len, 64);
        RemoteRegion target = b.register(hostDst, Access.REMOTE_WRITE).descriptor();
        TransferCounter done = new TransferCounter();
        int writes = 300;
        for (int i = 0; i < writes; i++) {
            a.submit(SingleWrite.of(src.region(), 0, len, target, 0), done);
        }
        a.close();
        done.await(writes, Waits.DEADLINE);
        assertEquals(writes, done.completed(), "each write reports exactly once (successes and failures)");
    }
}
