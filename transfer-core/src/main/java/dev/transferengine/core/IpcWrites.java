package dev.transferengine.core;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.RemoteRegion.DeviceShare;
import dev.transferengine.api.TransferException;
import dev.transferengine.core.device.CoalescingCopyQueue;
import dev.transferengine.core.device.StripedCopyQueue;
import dev.transferengine.spi.CompletionSink;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceCopyQueue;
import dev.transferengine.spi.ProviderDomain;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The writer's side of the same-host GPU path (in the spirit of UCX's {@code cuda_ipc}): a write whose
 * destination carries a {@link DeviceShare} of this host is a copy on this group's stream into the owner's
 * allocation, mapped once with CUDA IPC; its imm, if any, then goes through the NIC as a zero-length write once
 * the copy's event completed, so the receiver's count still means "the bytes are in place". Copies are dealt over
 * the engine's {@code copyStreams} streams and complete in write order. Before each copy
 * the owner's liveness word must still hold the share's generation; otherwise the write fails with
 * {@link ErrorCategory#REMOTE_ACCESS} and no byte is written. A share that cannot be used here (the handle does
 * not open: the owner is this process, or gone, or on another host) is remembered and its writes go through
 * the NIC as before.
 *
 * <p>Owned by one worker; not thread-safe. Allocation-free per write once a share was seen.
 */
final class IpcWrites {
    private static final System.Logger LOG = System.getLogger(IpcWrites.class.getName());
    /** {@link #post}'s answer when this path does not take the write. */
    static final int DECLINED = -1;
    private static final int CAPACITY = 256;
    private static final int MAX_SHARE_OBJECTS = 4096;
    private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();
    private static final byte[] HOST_ID = DeviceShares.hostId();

    private final DeviceBackend backend;
    private final int ordinal;
    private final int streams;
    private final Arena arena = Arena.ofShared();
    private CoalescingCopyQueue copies;
    private final boolean coalesce;
    /** Per share object, and per handle for equal shares decoded again: the mapped base, or 0 when declined. */
    private final Map<DeviceShare, Long> byShare = new IdentityHashMap<>();
    private final Map<HandleKey, Long> byHandle = new HashMap<>();
    private final Map<String, MemorySegment> livenessFiles = new HashMap<>();

    // Writes whose copy is in flight or whose imm is still to be posted, oldest first.
    private final long[] ticket = new long[CAPACITY];
    private final long[] peer = new long[CAPACITY];
    private final int[] nic = new int[CAPACITY];
    private final long[] remoteAddress = new long[CAPACITY];
    private final long[] remoteKey = new long[CAPACITY];
    private final boolean[] withImm = new boolean[CAPACITY];
    private final int[] imm = new int[CAPACITY];
    private final long[] context = new long[CAPACITY];
    private int head;
    private int size;
    private long writes;

    private record HandleKey(byte[] handle) {
        @Override
        public boolean equals(Object o) {
            return o instanceof HandleKey k && Arrays.equals(k.handle, handle);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(handle);
        }
    }

    /**
     * @param streams  CUDA streams the copies are dealt over ({@link StripedCopyQueue})
     * @param coalesce whether back-to-back contiguous copies (pages in order) go out as one launch
     *                 ({@link CoalescingCopyQueue}; what is held is launched at the next {@link #progress})
     */
    IpcWrites(DeviceBackend backend, int ordinal, int streams, boolean coalesce) {
        this.streams = streams;
        this.coalesce = coalesce;
        this.backend = backend;
        this.ordinal = ordinal;
    }

    /** Writes that went this way (tests, diagnostics). */
    long writes() {
        return writes;
    }

    /** The device whose copy queue this path uses (the worker's group's GPU). */
    int ordinal() {
        return ordinal;
    }

    /**
     * Takes the write if its destination can be reached over IPC ({@code sourceOnDevice}: its source is memory of
     * this worker's device, see {@link #ordinal()}): queues the copy and returns
     * {@link ProviderDomain#POSTED}; {@link ProviderDomain#RETRY} when the stream or the table is full;
     * {@link #DECLINED} when the write must go through the NIC.
     *
     * @throws TransferException REMOTE_ACCESS when the owner closed the region (the liveness word changed)
     */
    int post(WriteOp op, boolean sourceOnDevice, long peerHandle, long writeContext) {
        DeviceShare share = op.region.deviceShare();
        if (op.length == 0) {
            return DECLINED; // nothing to copy: an imm-only write goes through the NIC as it is
        }
        long mapped = mapping(share);
        if (mapped == 0) {
            return DECLINED;
        }
        MemorySegment live = livenessFiles.get(share.livenessPath());
        if ((long) WORD.getAcquire(live, share.livenessSlot() * 8L) != share.generation()) {
            throw new TransferException(ErrorCategory.REMOTE_ACCESS, "the destination region was closed by its owner"
                    + " (same-host GPU write refused before any byte was copied): " + op.region);
        }
        if (size == CAPACITY) {
            return ProviderDomain.RETRY;
        }
        long target = mapped + share.allocationOffset() + op.dstOffset;
        // The target is mapped into this device; a source in this device's memory makes the copy device-only.
        long t = copyQueue().copy(target, op.srcAddress, op.length, op.src, share, sourceOnDevice);
        if (t == DeviceCopyQueue.FULL) {
            return ProviderDomain.RETRY;
        }
        int i = (head + size) % CAPACITY;
        ticket[i] = t;
        peer[i] = peerHandle;
        nic[i] = op.nic;
        remoteAddress[i] = op.remoteAddress;
        remoteKey[i] = op.dst.remoteKey();
        withImm[i] = op.withImm;
        imm[i] = op.imm;
        context[i] = writeContext;
        size++;
        writes++;
        return ProviderDomain.POSTED;
    }

    /**
     * Completes writes whose copies finished, in order: a write without imm completes here; one with an imm
     * posts a zero-length imm write through its NIC (the completion of that post completes the write).
     */
    int progress(CompletionSink sink, DomainGroup domains) {
        if (copies != null) {
            copies.flush(); // what the last posts held for merging goes out now
        }
        int done = 0;
        while (size > 0) {
            int i = head;
            try {
                if (ticket[i] != Long.MIN_VALUE && !copies.isDone(ticket[i])) {
                    break;
                }
            } catch (TransferException e) {
                pop();
                sink.onError(context[i], e);
                done++;
                continue;
            }
            ticket[i] = Long.MIN_VALUE; // copied: from here on only the imm is outstanding
            if (withImm[i]) {
                int rc;
                try {
                    rc = domains.domain(nic[i]).postWrite(peer[i], null, 0, 0, remoteAddress[i], remoteKey[i], true,
                            imm[i], context[i]);
                } catch (TransferException e) {
                    pop();
                    sink.onError(context[i], e);
                    done++;
                    continue;
                }
                if (rc != ProviderDomain.POSTED) {
                    break; // RETRY or RETRY_PEER: the imms go out in order, so the rest wait too
                }
                pop();
            } else {
                pop();
                sink.onComplete(context[i]);
            }
            done++;
        }
        // Copies in flight finish without waking the worker: keep it polling.
        return size > 0 ? Math.max(done, 1) : done;
    }

    private void pop() {
        head = (head + 1) % CAPACITY;
        size--;
    }

    private CoalescingCopyQueue copyQueue() {
        if (copies == null) {
            copies = new CoalescingCopyQueue(StripedCopyQueue.open(backend, ordinal, streams), 2 * CAPACITY,
                    coalesce, CoalescingCopyQueue.DEFAULT_MAX_RUN_BYTES);
        }
        return copies;
    }

    /** The mapped base of the share's allocation, or 0 when this process cannot use the share. */
    private long mapping(DeviceShare share) {
        Long known = byShare.get(share);
        if (known != null) {
            return known;
        }
        long mapped = 0;
        if (share.isOnHost(HOST_ID)) {
            HandleKey key = new HandleKey(share.ipcHandle());
            Long byKey = byHandle.get(key);
            if (byKey != null) {
                mapped = byKey;
            } else {
                mapped = open(share);
                byHandle.put(key, mapped);
            }
        }
        if (byShare.size() >= MAX_SHARE_OBJECTS) {
            byShare.clear(); // descriptors decoded again and again: the per-handle map keeps the mappings
        }
        byShare.put(share, mapped);
        return mapped;
    }

    private long open(DeviceShare share) {
        try {
            MemorySegment live = livenessFiles.get(share.livenessPath());
            if (live == null) {
                try (FileChannel ch = FileChannel.open(Path.of(share.livenessPath()), StandardOpenOption.READ)) {
                    live = ch.map(FileChannel.MapMode.READ_ONLY, 0, DeviceShares.FILE_BYTES, arena);
                }
                livenessFiles.put(share.livenessPath(), live);
            }
            return backend.openIpc(share.ipcHandle(), ordinal);
        } catch (IOException | TransferException | IllegalArgumentException e) {
            LOG.log(Level.DEBUG, "same-host GPU path not usable for " + share + ", writing through the NIC: " + e);
            return 0;
        }
    }

    /** Waits (bounded) for copies, unmaps every handle and liveness file. Worker thread, at shutdown. */
    void close() {
        if (copies != null) {
            copies.close();
        }
        for (long mapped : byHandle.values()) {
            if (mapped != 0) {
                try {
                    backend.closeIpc(mapped);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "closing an IPC mapping failed", e);
                }
            }
        }
        byHandle.clear();
        byShare.clear();
        arena.close();
    }

    /** Whether {@code region} is worth asking {@link #post} about. */
    static boolean mayTake(RemoteRegion region) {
        return region.deviceShare() != null;
    }
}
