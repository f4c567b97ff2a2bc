package dev.transferengine.core;

import dev.transferengine.api.Barrier;
import dev.transferengine.api.ClosedException;
import dev.transferengine.api.ImmWrite;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.Routing;
import dev.transferengine.api.Scatter;
import dev.transferengine.api.ScatterRouting;
import dev.transferengine.api.ScatterTarget;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferRequest;
import dev.transferengine.spi.RegisteredMemory;

/**
 * Checks a request completely on the submitting thread, before it reaches a worker or native code:
 * regions open and owned by this engine, every byte range inside its region (overflow-safe), NIC
 * indices and shard counts within the group. Write sizes are not limited: a write longer than the
 * provider's maximum message size is split into pieces at the NIC ({@link SplittingDomain}); SENDs, which
 * cannot be split, are checked against the limit by the engine. Allocation-free on success.
 */
final class RequestValidator {
    private final DefaultTransferEngine engine;

    RequestValidator(DefaultTransferEngine engine) {
        this.engine = engine;
    }

    /** Validates {@code request} and returns the group whose worker executes it. */
    int validate(TransferRequest request) {
        if (request == null) {
            throw new InvalidRequestException("request must not be null");
        }
        return switch (request) {
            case SingleWrite w -> {
                Region src = ownSource(w.src());
                int n = engine.nicCount(src.group());
                inRange(w.srcOffset(), w.length(), src.lengthBytes(), "source");
                inRange(w.dstOffset(), w.length(), w.dst().lengthBytes(), "destination");
                routing(w.routing(), n);
                yield src.group();
            }
            case PagedWrite p -> {
                Region src = ownSource(p.src());
                for (int i = 0; i < p.pageCount(); i++) {
                    page(p.srcOffset(), p.srcStride(), p.srcPage(i), p.pageLength(), src.lengthBytes(), "source", i);
                    page(p.dstOffset(), p.dstStride(), p.dstPage(i), p.pageLength(), p.dst().lengthBytes(), "destination", i);
                }
                yield src.group();
            }
            case Scatter s -> {
                Region src = ownSource(s.src());
                int n = engine.nicCount(src.group());
                if (s.targets().isEmpty()) {
                    throw new InvalidRequestException("scatter needs at least one target");
                }
                if (s.routing() instanceof ScatterRouting.Pinned pin) {
                    nic(pin.nic(), n);
                }
                for (ScatterTarget t : s.targets()) {
                    inRange(t.srcOffset(), t.length(), src.lengthBytes(), "scatter source");
                    inRange(t.dstOffset(), t.length(), t.dst().lengthBytes(), "scatter destination");
                }
                yield src.group();
            }
            case Barrier b -> {
                if (b.dsts().isEmpty()) {
                    throw new InvalidRequestException("barrier needs at least one destination");
                }
                routing(b.routing(), engine.nicCount(0));
                yield 0;
            }
            case ImmWrite i -> {
                routing(i.routing(), engine.nicCount(0));
                yield 0;
            }
        };
    }

    /** The group of a request {@link #validate} accepted (its source region's, 0 for barriers and imm writes). */
    static int groupOf(TransferRequest request) {
        return switch (request) {
            case SingleWrite w -> ((Region) w.src()).group();
            case PagedWrite p -> ((Region) p.src()).group();
            case Scatter s -> ((Region) s.src()).group();
            case Barrier b -> 0;
            case ImmWrite i -> 0;
        };
    }

    /**
     * The write source as this engine's open {@link Region}. A staged GPU target cannot be one: its NIC
     * registrations cover the host shadow peers write into, not the GPU memory.
     */
    Region ownSource(MemoryRegion region) {
        Region r = ownRegion(region, "src");
        if (r.isStaged()) {
            throw new InvalidRequestException("src is a staged GPU region (peers write into its host shadow, see "
                    + "MemoryRegion.flush): register the same GPU memory again with Access.LOCAL to write from it");
        }
        return r;
    }

    /** The region as this engine's open {@link Region}. */
    Region ownRegion(MemoryRegion region, String what) {
        if (!(region instanceof Region r) || r.engine() != engine) {
            throw new InvalidRequestException(what + " region was not registered with this engine");
        }
        if (!r.isOpen()) {
            throw new ClosedException(what + " region is closed (unregistered, or its memory segment's arena was closed)");
        }
        return r;
    }

    static void inRange(long offset, long length, long regionLength, String what) {
        if (offset < 0 || length < 0) {
            throw new InvalidRequestException(what + " offset and length must be >= 0, got offset " + offset
                    + ", length " + length);
        }
        if (!RegisteredMemory.contains(0, regionLength, offset, length)) {
            throw new InvalidRequestException(what + " range [" + offset + ", " + offset + " + " + length
                    + ") exceeds the region's " + regionLength + " bytes");
        }
    }

    private static void page(long offset, long stride, int index, long pageLength, long regionLength, String what,
                             int i) {
        if (index < 0) {
            throw new InvalidRequestException(what + " page index at position " + i + " is negative: " + index);
        }
        long start;
        try {
            start = Math.addExact(offset, Math.multiplyExact(stride, (long) index));
        } catch (ArithmeticException e) {
            throw new InvalidRequestException(what + " page " + index + " at position " + i + " overflows 64 bits");
        }
        if (!RegisteredMemory.contains(0, regionLength, start, pageLength)) {
            throw new InvalidRequestException(what + " page " + index + " at position " + i + " covers [" + start
                    + ", " + start + " + " + pageLength + "), past the region's " + regionLength + " bytes");
        }
    }

    private static void routing(Routing routing, int n) {
        switch (routing) {
            case Routing.Pinned p -> nic(p.nic(), n);
            case Routing.Sharded s -> {
                if (s.shards() > n) {
                    throw new InvalidRequestException("cannot shard over " + s.shards() + " NICs: the group has " + n);
                }
            }
        }
    }

    private static void nic(int nic, int n) {
        if (nic >= n) {
            throw new InvalidRequestException("NIC index " + nic + " out of range: the group has " + n + " NICs");
        }
    }
}
