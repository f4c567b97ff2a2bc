package dev.transferengine.core;

import dev.transferengine.api.ClosedException;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.core.PiecedWrites.PiecedWrite;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceCopyQueue;
import dev.transferengine.spi.DeviceMemory;
import dev.transferengine.spi.ProviderDomain;
import dev.transferengine.spi.RegisteredMemory;

import java.lang.foreign.MemorySegment;

/**
 * A NIC of a GPU group, as the worker sees it: device memory the NIC can register goes straight to the
 * provider ({@link ProviderDomain#registerDevice}); device memory it cannot (a libfabric built without CUDA,
 * a provider without device support) becomes a {@link StagedRegistration}, and writes from it are staged:
 * each piece of at most {@link StagingSettings#slotBytes()} is copied device-to-host into a pinned bounce
 * slot on the group's copy queue, and posted from there once the copy's event completed.
 *
 * <p>Imm accounting is unchanged: a staged write longer than a slot goes out as several pieces, the
 * pieces before the last without imm, and the last one, carrying the imm, only after every other piece
 * completed at the initiator (delivery-complete providers: landed). So under unordered delivery the imm
 * still means "all bytes of this write are in place". The worker sees one completion per staged write,
 * as for any post.
 *
 * <p>Device memory registered for remote writes is not this class's business: it answers
 * {@link ErrorCategory#UNAVAILABLE}, and the worker gives the region a pinned host shadow that peers write into
 * ({@link StagedTarget}, flushed by the receiver).
 *
 * <p>Single-threaded like every domain: the owning worker calls every method. Staging progresses inside
 * {@link #poll}, which the worker calls every iteration. Allocation-free after the first staged registration.
 */
final class StagingDomain extends ForwardingDomain {
    /** Marks contexts of pieces this domain posted itself (engine contexts never set bit 63). */
    static final long STAGED_FLAG = Long.MIN_VALUE;
    private static final int MAX_WRITES = 256;
    private static final byte SLOT_FREE = 0;
    private static final byte SLOT_COPYING = 1;
    private static final byte SLOT_COPIED = 2;
    private static final byte SLOT_POSTED = 3;

    private final DeviceBackend backend;
    private final int ordinal;
    private final long slotBytes;
    private final Interceptor interceptor = new Interceptor();

    // Bounce slots; memory allocated and registered on the first staged registration.
    private MemorySegment bounce;
    private RegisteredMemory bounceRegistration;
    private DeviceCopyQueue copies;
    private final byte[] slotState;
    private final int[] slotWrite;
    private final long[] slotOffset;
    private final long[] slotLength;
    private final long[] slotTicket;
    private final int[] freeSlots;
    private int freeSlotCount;

    /** Staged writes in flight, oldest first (pieces start copying in this order). */
    private final PiecedWrites writes = new PiecedWrites(MAX_WRITES);
    private String directFailure;
    private boolean closed;

    StagingDomain(ProviderDomain inner, DeviceBackend backend, int ordinal, StagingSettings settings) {
        super(inner);
        this.backend = backend;
        this.ordinal = ordinal;
        this.slotBytes = settings.slotBytes();
        int slots = settings.slots();
        this.slotState = new byte[slots];
        this.slotWrite = new int[slots];
        this.slotOffset = new long[slots];
        this.slotLength = new long[slots];
        this.slotTicket = new long[slots];
        this.freeSlots = new int[slots];
        for (int s = 0; s < slots; s++) {
            freeSlots[freeSlotCount++] = slots - 1 - s;
        }
    }

    @Override
    public RegisteredMemory registerDevice(DeviceMemory memory, boolean remoteWrite) {
        ensureOpen();
        String why;
        if (inner.capabilities().hostMemoryOnly()) {
            why = "the provider's domain does not support device memory";
        } else {
            try {
                return inner.registerDevice(memory, remoteWrite);
            } catch (TransferException e) {
                if (e.category() != ErrorCategory.UNAVAILABLE) {
                    throw e;
                }
                why = e.getMessage();
            }
        }
        if (directFailure == null) {
            directFailure = why;
        }
        if (remoteWrite) {
            // The worker catches this and gives the region a host shadow instead (StagedTarget).
            throw new TransferException(ErrorCategory.UNAVAILABLE, "device memory cannot be registered for remote"
                    + " writes on " + inner + ": " + why);
        }
        ensureBounceBuffers();
        return new StagedRegistration(this, memory);
    }

    /** Why device memory is staged on this NIC, or null while every registration went to the provider. */
    String stagingReason() {
        return directFailure;
    }

    @Override
    public void deregister(RegisteredMemory memory) {
        if (memory instanceof StagedRegistration staged) {
            if (staged.owner() != this) {
                throw new InvalidRequestException("staged memory of another NIC: " + memory);
            }
            staged.markDeregistered();
            return;
        }
        inner.deregister(memory);
    }

    @Override
    public int postWrite(long peer, RegisteredMemory src, long srcAddress, long length, long remoteAddress,
                         long remoteKey, boolean withImm, int imm, long context) {
        if (!(src instanceof StagedRegistration staged)) {
            return inner.postWrite(peer, src, srcAddress, length, remoteAddress, remoteKey, withImm, imm, context);
        }
        ensureOpen();
        if (staged.owner() != this || !staged.isRegistered()) {
            throw new ClosedException("staged source " + staged + " is not registered on this NIC");
        }
        if (!staged.contains(srcAddress, length)) {
            throw new InvalidRequestException("WRITE source range [0x" + Long.toHexString(srcAddress) + ", +" + length
                    + ") is outside " + staged);
        }
        if (length == 0) {
            return inner.postWrite(peer, null, 0, 0, remoteAddress, remoteKey, withImm, imm, context);
        }
        if (!writes.hasFree()) {
            return RETRY;
        }
        writes.start(peer, null, srcAddress, length, remoteAddress, remoteKey, withImm, imm, context,
                (length + slotBytes - 1) / slotBytes);
        return POSTED;
    }

    @Override
    public int postSend(long peer, RegisteredMemory src, long address, long length, long context) {
        if (src instanceof StagedRegistration) {
            throw new InvalidRequestException("sends from device memory are not supported; send from host memory");
        }
        return inner.postSend(peer, src, address, length, context);
    }

    @Override
    public int postReceive(RegisteredMemory dst, long address, long length, long context) {
        if (dst instanceof StagedRegistration) {
            throw new InvalidRequestException("receives into device memory are not supported; receive into host memory");
        }
        return inner.postReceive(dst, address, length, context);
    }

    @Override
    public int poll(CompletionSink sink, int maxEntries) {
        if (writes.activeCount() == 0) {
            return inner.poll(sink, maxEntries);
        }
        int work = stage(sink);
        interceptor.target = sink;
        work += inner.poll(interceptor, maxEntries);
        work += stage(sink);
        // Copies in flight are work in progress: keep the worker polling rather than parking.
        return writes.activeCount() > 0 ? Math.max(work, 1) : work;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (copies != null) {
                copies.close(); // waits for copies still writing into the bounce slots
            }
        } finally {
            try {
                inner.close(); // frees the bounce registration with the endpoint
            } finally {
                if (bounce != null) {
                    backend.freePinnedHost(bounce);
                }
            }
        }
    }

    @Override
    public String toString() {
        return "Staging(" + inner + ")";
    }

    // ---------------------------------------------------------------- staging

    private void ensureBounceBuffers() {
        if (bounce != null) {
            return;
        }
        MemorySegment memory = backend.allocatePinnedHost(slotBytes * slotState.length);
        try {
            bounceRegistration = inner.register(memory, false);
            copies = backend.openCopyQueue(ordinal);
        } catch (RuntimeException | Error e) {
            if (bounceRegistration != null) {
                inner.deregister(bounceRegistration);
                bounceRegistration = null;
            }
            backend.freePinnedHost(memory);
            throw e;
        }
        bounce = memory;
    }

    /** Starts copies for waiting pieces, posts pieces whose copies finished, hands out finished writes. */
    private int stage(CompletionSink sink) {
        return startCopies() + postCopied(sink) + writes.finish(sink);
    }

    private int startCopies() {
        int started = 0;
        for (int k = 0; k < writes.activeCount() && freeSlotCount > 0; k++) {
            PiecedWrite w = writes.active(k);
            while (w.error == null && w.nextPiece < w.pieces && freeSlotCount > 0) {
                int slot = freeSlots[freeSlotCount - 1];
                long offset = w.nextPiece * slotBytes;
                long length = Math.min(slotBytes, w.length - offset);
                long ticket;
                try {
                    ticket = copies.copy(slotAddress(slot), w.srcAddress + offset, length);
                } catch (TransferException e) {
                    w.fail(e);
                    break;
                }
                if (ticket == DeviceCopyQueue.FULL) {
                    return started;
                }
                freeSlotCount--;
                slotState[slot] = SLOT_COPYING;
                slotWrite[slot] = w.index;
                slotOffset[slot] = offset;
                slotLength[slot] = length;
                slotTicket[slot] = ticket;
                w.nextPiece++;
                w.outstanding++;
                started++;
            }
        }
        return started;
    }

    private int postCopied(CompletionSink sink) {
        int posted = 0;
        for (int slot = 0; slot < slotState.length; slot++) {
            if (slotState[slot] == SLOT_COPYING) {
                try {
                    if (!copies.isDone(slotTicket[slot])) {
                        continue;
                    }
                } catch (TransferException e) {
                    writes.byIndex(slotWrite[slot]).fail(e);
                }
                slotState[slot] = SLOT_COPIED;
            }
            if (slotState[slot] != SLOT_COPIED) {
                continue;
            }
            PiecedWrite w = writes.byIndex(slotWrite[slot]);
            if (w.error != null) {
                releaseSlot(slot, w);
                continue;
            }
            boolean last = slotOffset[slot] + slotLength[slot] == w.length;
            boolean imm = last && w.withImm;
            if (imm && w.completed < w.pieces - 1) {
                continue; // the imm goes out only once every other piece has landed
            }
            int rc;
            try {
                rc = inner.postWrite(w.peer, bounceRegistration, slotAddress(slot), slotLength[slot],
                        w.remoteAddress + slotOffset[slot], w.remoteKey, imm, w.imm, STAGED_FLAG | slot);
            } catch (TransferException e) {
                w.fail(e);
                releaseSlot(slot, w);
                continue;
            } catch (RuntimeException e) {
                w.fail(new TransferException(ErrorCategory.PROVIDER, "posting a staged piece failed: " + e, e));
                releaseSlot(slot, w);
                continue;
            }
            if (rc == RETRY_PEER) {
                continue; // this peer takes nothing now: the other slots' peers may
            }
            if (rc != POSTED) {
                break; // the NIC's queue is full until its completions are read
            }
            slotState[slot] = SLOT_POSTED;
            posted++;
        }
        return posted;
    }

    private void releaseSlot(int slot, PiecedWrite w) {
        slotState[slot] = SLOT_FREE;
        freeSlots[freeSlotCount++] = slot;
        w.outstanding--;
    }

    private long slotAddress(int slot) {
        return bounce.address() + slot * slotBytes;
    }

    private void ensureOpen() {
        if (closed) {
            throw new ClosedException("NIC " + inner + " is closed");
        }
    }

    /** Routes completions of staged pieces to their writes and everything else to the worker. */
    private final class Interceptor extends ForwardingDomain.Interceptor {
        Interceptor() {
            super(STAGED_FLAG);
        }

        @Override
        void ownComplete(long context) {
            int slot = (int) context;
            PiecedWrite w = writes.byIndex(slotWrite[slot]);
            w.completed++;
            releaseSlot(slot, w);
        }

        @Override
        void ownError(long context, TransferException error) {
            int slot = (int) context;
            PiecedWrite w = writes.byIndex(slotWrite[slot]);
            w.fail(error);
            releaseSlot(slot, w);
        }
    }
}
