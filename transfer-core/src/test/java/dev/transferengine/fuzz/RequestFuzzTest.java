package dev.transferengine.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.transferengine.api.Access;
import dev.transferengine.api.Barrier;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.ImmWrite;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.Routing;
import dev.transferengine.api.Scatter;
import dev.transferengine.api.ScatterRouting;
import dev.transferengine.api.ScatterTarget;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferRequest;
import org.junit.jupiter.api.AfterAll;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Coverage-guided fuzzing (Jazzer) of request validation through a real engine: two loopback engines in this
 * process (sender A with 2 NICs, receiver B with 3), real registered regions between guard zones, and
 * {@link SingleWrite}, {@link PagedWrite}, {@link Scatter}, {@link ImmWrite} and {@link Barrier} requests
 * built from the fuzz input, with offsets and strides near {@code Long.MAX_VALUE}, random routings, and
 * genuine or forged descriptors (shifted base, longer length, random or another region's key, random NIC
 * count and addresses, a stale key of an unregistered region, bytes decoded from the input).
 *
 * <p>Each request must either be rejected synchronously with a {@link TransferException} (memory then
 * unchanged), fail asynchronously with one, or complete; nothing else, within a deadline. Whatever happens:
 * the source and the unregistered buffer never change, no guard byte of any buffer changes, and with genuine
 * descriptors nothing outside the described ranges changes (and on success the described bytes are exactly
 * the source's). Forged descriptors may only ever reach the bodies of real registered regions.
 *
 * <p>A normal test run replays {@code RequestFuzzTestInputs/submit/} (next to this file) as regression tests;
 * {@code JAZZER_FUZZ=1} fuzzes (docs/testing.md, "Fuzzing").
 */
class RequestFuzzTest {
    private static final int GUARD = 512;
    private static final int SRC_BYTES = 8192;
    private static final int DST_BYTES = 8192;
    private static final int DST2_BYTES = 4096;
    private static final long DEADLINE_SECONDS = 20;

    private static Rig rig;

    @AfterAll
    static void closeRig() {
        if (rig != null) {
            rig.close();
            rig = null;
        }
    }

    @FuzzTest
    void submit(FuzzedDataProvider data) {
        if (rig == null) {
            rig = new Rig();
        }
        rig.reset();
        Writes writes = new Writes();
        TransferRequest request;
        try {
            request = rig.request(data, writes);
        } catch (TransferException e) {
            rig.assertUntouched("request construction threw " + e);
            return; // the request types' own validation: typed
        } catch (Throwable t) {
            fail("building a request threw an untyped " + t, t);
            return;
        }
        CompletableFuture<Void> done;
        try {
            done = rig.a.submit(request);
        } catch (TransferException e) {
            rig.assertUntouched("rejected " + request + " (" + e + ")");
            return;
        } catch (Throwable t) {
            fail("submit threw an untyped " + t + " for " + request, t);
            return;
        }
        boolean completed;
        try {
            done.get(DEADLINE_SECONDS, TimeUnit.SECONDS);
            completed = true;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof CompletionException c && c.getCause() != null
                    ? c.getCause() : e.getCause();
            if (!(cause instanceof TransferException)) {
                fail(request + " failed with an untyped " + cause, cause);
            }
            completed = false;
        } catch (TimeoutException e) {
            fail(request + " neither completed nor failed within " + DEADLINE_SECONDS + " s");
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted");
            return;
        }
        rig.assertAfter(request, writes, completed);
    }

    /** The bytes a request with genuine descriptors may change: per destination buffer, per byte. */
    static final class Writes {
        boolean forged;
        final List<long[]> ranges = new ArrayList<>(); // {buffer index, srcOffset, dstOffset, length}

        void add(int buffer, long srcOffset, long dstOffset, long length) {
            ranges.add(new long[] {buffer, srcOffset, dstOffset, length});
        }
    }

    /** Native memory between guard zones, with the image it must have. */
    static final class Guarded {
        final String name;
        final MemorySegment whole;
        final MemorySegment body;
        final byte[] image;

        Guarded(String name, Arena arena, int bodyBytes, Random random) {
            this.name = name;
            this.whole = arena.allocate(bodyBytes + 2L * GUARD, 64);
            this.body = whole.asSlice(GUARD, bodyBytes);
            this.image = new byte[(int) whole.byteSize()];
            random.nextBytes(image);
        }

        void reset() {
            MemorySegment.copy(image, 0, whole, JAVA_BYTE, 0, image.length);
        }

        byte bodyByte(long offset) {
            return image[GUARD + (int) offset];
        }

        byte[] actual() {
            return whole.toArray(JAVA_BYTE);
        }
    }

    static final class Rig implements AutoCloseable {
        final TransferEngine a;
        final TransferEngine b;
        final Arena arena = Arena.ofShared();
        final Guarded src;
        final Guarded[] dsts;
        final Guarded stale;
        final MemoryRegion srcRegion;
        final MemoryRegion foreignRegion;
        final MemoryRegion closedRegion;
        final RemoteRegion[] descriptors;
        final RemoteRegion staleDescriptor;
        final List<DomainAddress> addresses = new ArrayList<>();

        Rig() {
            Random random = new Random(0xF022);
            a = TransferEngine.builder().name("fuzz-A").groups(1, 2).transferTimeout(Duration.ofSeconds(5)).build();
            b = TransferEngine.builder().name("fuzz-B").groups(1, 3).transferTimeout(Duration.ofSeconds(5)).build();
            src = new Guarded("src", arena, SRC_BYTES, random);
            dsts = new Guarded[] {new Guarded("dst", arena, DST_BYTES, random),
                    new Guarded("dst2", arena, DST2_BYTES, random)};
            stale = new Guarded("unregistered", arena, DST2_BYTES, random);
            for (Guarded g : new Guarded[] {src, dsts[0], dsts[1], stale}) {
                g.reset();
            }
            srcRegion = a.register(src.body, Access.LOCAL);
            descriptors = new RemoteRegion[] {b.register(dsts[0].body, Access.REMOTE_WRITE).descriptor(),
                    b.register(dsts[1].body, Access.REMOTE_WRITE).descriptor()};
            foreignRegion = b.register(arena.allocate(1024), Access.LOCAL);
            closedRegion = a.register(arena.allocate(1024), Access.LOCAL);
            closedRegion.close();
            MemoryRegion unregistered = b.register(stale.body, Access.REMOTE_WRITE);
            staleDescriptor = unregistered.descriptor();
            unregistered.close();
            addresses.addAll(a.addresses(0));
            addresses.addAll(b.addresses(0));
        }

        void reset() {
            for (Guarded g : new Guarded[] {src, dsts[0], dsts[1], stale}) {
                g.reset();
            }
        }

        // -----------------------------------------------------------------------------------------
        // Requests from fuzz data
        // -----------------------------------------------------------------------------------------

        TransferRequest request(FuzzedDataProvider d, Writes w) {
            MemoryRegion from = switch (d.consumeInt(0, 15)) {
                case 0 -> foreignRegion;
                case 1 -> closedRegion;
                default -> srcRegion;
            };
            OptionalInt imm = d.consumeBoolean() ? OptionalInt.of(d.consumeInt()) : OptionalInt.empty();
            return switch (d.consumeInt(0, 4)) {
                case 0 -> {
                    int dst = descriptor(d, w);
                    RemoteRegion r = chosen(dst, d);
                    long srcOffset = offset(d, SRC_BYTES);
                    long length = offset(d, Math.max(SRC_BYTES, r.lengthBytes()));
                    long dstOffset = offset(d, r.lengthBytes());
                    w.add(dst, srcOffset, dstOffset, length);
                    yield new SingleWrite(from, srcOffset, length, r, dstOffset, imm, routing(d));
                }
                case 1 -> {
                    int dst = descriptor(d, w);
                    RemoteRegion r = chosen(dst, d);
                    int pages = d.consumeInt(0, 40);
                    boolean mismatched = d.consumeInt(0, 31) == 0;
                    int[] srcPages = pages(d, pages);
                    int[] dstPages = pages(d, mismatched ? d.consumeInt(0, 40) : pages);
                    long pageLength = offset(d, 512);
                    long srcStride = offset(d, 1024);
                    long srcOffset = offset(d, SRC_BYTES);
                    long dstStride = offset(d, 1024);
                    long dstOffset = offset(d, r.lengthBytes());
                    for (int i = 0; i < Math.min(srcPages.length, dstPages.length); i++) {
                        // only reached when validation accepted, i.e. every page is inside its region
                        w.add(dst, srcOffset + srcStride * srcPages[i], dstOffset + dstStride * dstPages[i], pageLength);
                    }
                    yield new PagedWrite(pageLength, from, srcPages, srcStride, srcOffset, r, dstPages, dstStride,
                            dstOffset, imm);
                }
                case 2 -> {
                    int count = d.consumeInt(0, 12);
                    List<ScatterTarget> targets = new ArrayList<>();
                    for (int i = 0; i < count; i++) {
                        int dst = descriptor(d, w);
                        RemoteRegion r = chosen(dst, d);
                        long length = offset(d, 2048);
                        long srcOffset = offset(d, SRC_BYTES);
                        long dstOffset = offset(d, r.lengthBytes());
                        w.add(dst, srcOffset, dstOffset, length);
                        targets.add(new ScatterTarget(r, length, srcOffset, dstOffset));
                    }
                    ScatterRouting routing = switch (d.consumeInt(0, 2)) {
                        case 0 -> ScatterRouting.SHARD_PEERS;
                        case 1 -> ScatterRouting.SHARD_BYTES;
                        default -> ScatterRouting.pinned(nic(d));
                    };
                    yield new Scatter(from, targets, imm, routing);
                }
                case 3 -> {
                    int count = d.consumeInt(0, 6);
                    List<RemoteRegion> dsts = new ArrayList<>();
                    for (int i = 0; i < count; i++) {
                        dsts.add(chosen(descriptor(d, w), d));
                    }
                    yield new Barrier(dsts, d.consumeInt(), routing(d));
                }
                default -> new ImmWrite(chosen(descriptor(d, w), d), d.consumeInt(), routing(d));
            };
        }

        /** Picks a destination: 0 or 1 for a genuine descriptor of that buffer, -1 for a forged one. */
        private int descriptor(FuzzedDataProvider d, Writes w) {
            int choice = d.consumeInt(0, 15);
            if (choice < 8) {
                return choice < 6 ? 0 : 1;
            }
            w.forged = true;
            return -(choice - 7); // -1 .. -8: which forgery
        }

        private RemoteRegion chosen(int choice, FuzzedDataProvider d) {
            if (choice >= 0) {
                return descriptors[choice];
            }
            RemoteRegion real = descriptors[d.consumeInt(0, 1)];
            List<RemoteRegion.NicKey> keys = new ArrayList<>(real.nics());
            int k = d.consumeInt(0, keys.size() - 1);
            RemoteRegion.NicKey key = keys.get(k);
            return switch (-choice) {
                case 1 -> new RemoteRegion(real.baseAddress() + d.consumeLong(-2 * DST_BYTES, 2 * DST_BYTES),
                        real.lengthBytes(), shiftBases(keys, d.consumeLong(-2 * DST_BYTES, 2 * DST_BYTES)));
                case 2 -> new RemoteRegion(real.baseAddress(), real.lengthBytes() + offset(d, DST_BYTES), keys);
                case 3 -> {
                    keys.set(k, new RemoteRegion.NicKey(key.address(), d.consumeBoolean() ? d.consumeLong()
                            : key.remoteKey() ^ (1L << d.consumeInt(0, 63)), key.remoteBase()));
                    yield new RemoteRegion(real.baseAddress(), real.lengthBytes(), keys);
                }
                case 4 -> {
                    RemoteRegion other = d.consumeBoolean() ? descriptors[0] : descriptors[1];
                    keys.set(k, new RemoteRegion.NicKey(key.address(), other.nic(0).remoteKey(), key.remoteBase()));
                    yield new RemoteRegion(real.baseAddress(), real.lengthBytes(), keys);
                }
                case 5 -> {
                    int count = d.consumeInt(1, RemoteRegion.MAX_NICS);
                    List<RemoteRegion.NicKey> many = new ArrayList<>();
                    for (int i = 0; i < count; i++) {
                        RemoteRegion.NicKey base = keys.get(i % keys.size());
                        DomainAddress address = d.consumeBoolean() ? base.address()
                                : addresses.get(d.consumeInt(0, addresses.size() - 1));
                        many.add(new RemoteRegion.NicKey(address, base.remoteKey(), base.remoteBase()));
                    }
                    yield new RemoteRegion(real.baseAddress(), real.lengthBytes(), many);
                }
                case 6 -> {
                    byte[] raw = d.consumeBytes(d.consumeInt(1, 40));
                    keys.set(k, new RemoteRegion.NicKey(DomainAddress.of(raw), key.remoteKey(), key.remoteBase()));
                    yield new RemoteRegion(real.baseAddress(), real.lengthBytes(), keys);
                }
                case 7 -> staleDescriptor;
                default -> RemoteRegion.decode(d.consumeBytes(d.consumeInt(0, 300)));
            };
        }

        private static List<RemoteRegion.NicKey> shiftBases(List<RemoteRegion.NicKey> keys, long delta) {
            List<RemoteRegion.NicKey> out = new ArrayList<>();
            for (RemoteRegion.NicKey key : keys) {
                out.add(new RemoteRegion.NicKey(key.address(), key.remoteKey(), key.remoteBase() + delta));
            }
            return out;
        }

        /** An offset, length or stride: mostly near the region, sometimes near the overflow edge or negative. */
        private static long offset(FuzzedDataProvider d, long lengthOfRegion) {
            long regionLength = Math.clamp(lengthOfRegion, 0, 1L << 20); // a decoded descriptor may claim anything
            return switch (d.consumeInt(0, 7)) {
                case 0 -> Long.MAX_VALUE - d.consumeLong(0, 2 * regionLength);
                case 1 -> d.consumeLong();
                case 2 -> regionLength + d.consumeLong(-16, 16);
                case 3 -> Long.MAX_VALUE / Math.max(1, d.consumeInt(1, 64)) + d.consumeInt(-4, 4);
                default -> d.consumeLong(0, regionLength);
            };
        }

        private static int[] pages(FuzzedDataProvider d, int count) {
            int[] pages = new int[count];
            for (int i = 0; i < count; i++) {
                pages[i] = switch (d.consumeInt(0, 7)) {
                    case 0 -> d.consumeInt();
                    case 1 -> Integer.MAX_VALUE - d.consumeInt(0, 4);
                    default -> d.consumeInt(0, 20);
                };
            }
            return pages;
        }

        private static Routing routing(FuzzedDataProvider d) {
            return d.consumeBoolean() ? Routing.sharded(d.consumeInt(-1, 5)) : Routing.pinned(nic(d));
        }

        private static int nic(FuzzedDataProvider d) {
            return d.consumeBoolean() ? d.consumeInt(-1, 4) : d.consumeInt();
        }

        // -----------------------------------------------------------------------------------------
        // Memory checks
        // -----------------------------------------------------------------------------------------

        /** Nothing changed anywhere: the request was rejected before any write. */
        void assertUntouched(String what) {
            for (Guarded g : new Guarded[] {src, dsts[0], dsts[1], stale}) {
                assertImage(g, what);
            }
        }

        void assertAfter(TransferRequest request, Writes writes, boolean completed) {
            String what = request + (completed ? " completed" : " failed");
            assertImage(src, what + ": the source");
            assertImage(stale, what + ": an unregistered buffer");
            for (int i = 0; i < dsts.length; i++) {
                Guarded g = dsts[i];
                if (writes.forged) {
                    // a forged key may reach any byte of a real region's body, never its guards
                    byte[] actual = g.actual();
                    for (int p = 0; p < actual.length; p++) {
                        if ((p < GUARD || p >= GUARD + g.body.byteSize()) && actual[p] != g.image[p]) {
                            fail(what + ": guard byte " + p + " of " + g.name + " changed");
                        }
                    }
                    continue;
                }
                // genuine descriptors: exact model; bytes written twice with different values are "any"
                byte[] expected = g.image.clone();
                byte[] state = new byte[expected.length]; // 0 untouched, 1 written once/consistently, 2 ambiguous
                for (long[] r : writes.ranges) {
                    if (r[0] != i) {
                        continue;
                    }
                    for (long k = 0; k < r[3]; k++) {
                        int p = GUARD + (int) (r[2] + k);
                        byte v = src.bodyByte(r[1] + k);
                        if (state[p] == 0) {
                            state[p] = 1;
                            expected[p] = v;
                        } else if (expected[p] != v) {
                            state[p] = 2;
                        }
                    }
                }
                byte[] actual = g.actual();
                for (int p = 0; p < actual.length; p++) {
                    boolean ok = switch (state[p]) {
                        case 0 -> actual[p] == g.image[p];
                        case 1 -> actual[p] == expected[p] || (!completed && actual[p] == g.image[p]);
                        default -> true;
                    };
                    if (!ok) {
                        fail(what + ": " + g.name + " byte " + (p - GUARD) + " (body offset) is 0x"
                                + Integer.toHexString(actual[p] & 0xff) + ", expected 0x"
                                + Integer.toHexString((state[p] == 0 ? g.image[p] : expected[p]) & 0xff)
                                + (state[p] == 0 ? " (outside every described range)" : ""));
                    }
                }
            }
        }

        private static void assertImage(Guarded g, String what) {
            byte[] expected = g.image;
            long at = MemorySegment.mismatch(g.whole, 0, g.whole.byteSize(), MemorySegment.ofArray(expected), 0,
                    expected.length);
            if (at >= 0) {
                fail(what + ": " + g.name + " changed at byte " + (at - GUARD) + " (body offset; negative or past "
                        + g.body.byteSize() + " = a guard)");
            }
        }

        @Override
        public void close() {
            try {
                a.close();
                b.close();
            } finally {
                arena.close();
            }
        }
    }
}
