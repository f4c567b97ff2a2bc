package dev.transferengine.efa.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.DeviceMemory;
import dev.transferengine.spi.RegisteredMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Memory registrations of one domain, following what fi_info's {@code mr_mode} says:
 * <ul>
 *   <li>FI_MR_VIRT_ADDR: peers address the region by virtual address ({@code remoteBase} = address);
 *       otherwise by offset from the start of the registration ({@code remoteBase} = 0), as tcp;ofi_rxm wants
 *       — a virtual address there is silently dropped;</li>
 *   <li>FI_MR_PROV_KEY: the provider picks keys; otherwise we request keys unique within the domain. Either way
 *       the key peers get is read back with {@code fi_mr_key};</li>
 *   <li>FI_MR_LOCAL: {@code fi_mr_desc} goes with every post (we always pass it; it is harmless elsewhere).</li>
 *   <li>FI_MR_HMEM: device memory must be registered before use — which is the only way we use it
 *       ({@link #registerDevice}: {@code fi_mr_regattr} with {@code FI_HMEM_CUDA}, same keys and addressing).</li>
 * </ul>
 * Single-threaded (the domain's owner thread).
 */
final class MemoryRegistrations {
    private final LibfabricLibrary library;
    private final FiEndpoint endpoint;
    private final boolean virtualAddressing;
    private final boolean providerKeys;
    private final List<LibfabricMemory> live = new ArrayList<>();
    /** The live registrations peers may write into: checked before every poll by {@link #deregisterFreed}. */
    private final List<LibfabricMemory> remoteWritable = new ArrayList<>();
    private long nextRequestedKey = 1;
    /** fi_mr_regattr flags for CUDA memory: FI_HMEM_DEVICE_ONLY unless libfabric.hmemDeviceOnly=false. */
    private final long deviceRegistrationFlags;

    /** shm: the remote-writable registrations published for same-host writers to check; null elsewhere. */
    private final KeyTable keys;

    /** @param keys the endpoint's published key table (requested keys only), or null */
    MemoryRegistrations(LibfabricLibrary library, FiEndpoint endpoint, boolean virtualAddressing, boolean providerKeys,
                        long deviceRegistrationFlags, KeyTable keys) {
        if (keys != null && providerKeys) {
            throw new IllegalArgumentException("a key table needs requested keys (no FI_MR_PROV_KEY)");
        }
        this.keys = keys;
        this.deviceRegistrationFlags = deviceRegistrationFlags;
        this.library = library;
        this.endpoint = endpoint;
        this.virtualAddressing = virtualAddressing;
        this.providerKeys = providerKeys;
    }

    LibfabricMemory register(MemorySegment segment, boolean remoteWrite) {
        if (segment == null || !segment.isNative() || segment.byteSize() == 0) {
            throw new InvalidRequestException("only non-empty native memory can be registered, got " + segment);
        }
        long access = FiConst.Cap.FI_SEND | FiConst.Cap.FI_RECV | FiConst.Cap.FI_WRITE
                | (remoteWrite ? FiConst.Cap.FI_REMOTE_WRITE : 0);
        long requestedKey = requestKey(remoteWrite);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            // By address: a segment of a confined arena may be registered, and this runs on the worker thread.
            int rc = FiCalls.mrReg(endpoint.mrReg, endpoint.domain, MemorySegment.ofAddress(segment.address()),
                    segment.byteSize(), access, 0,
                    requestedKey, 0, out);
            if (rc != 0) {
                unusedKey(requestedKey);
                throw FiErrors.callFailed(library, "fi_mr_reg of " + segment.byteSize() + " bytes", rc);
            }
            MemorySegment mr = out.get(ADDRESS, 0).reinterpret(FiLayouts.FID_MR.byteSize());
            long key = mr.get(JAVA_LONG, FiLayouts.MR_KEY);
            long desc = mr.get(JAVA_LONG, FiLayouts.MR_MEM_DESC);
            LibfabricMemory m = new LibfabricMemory(this, segment.scope(), segment.address(), segment.byteSize(), key,
                    virtualAddressing ? segment.address() : 0, mr, desc);
            live.add(m);
            if (remoteWrite) {
                remoteWritable.add(m);
            }
            publish(m, remoteWrite, requestedKey);
            return m;
        }
    }

    /**
     * Registers CUDA device memory with {@code fi_mr_regattr} ({@code iface = FI_HMEM_CUDA},
     * {@code device.cuda = ordinal}), with the access flags, key and addressing rules of host memory. The address
     * is a device pointer and is never dereferenced here. Device registrations are not checked by
     * {@link #deregisterFreed}: they have no arena.
     *
     * @param hmem whether the domain's fi_info has FI_HMEM; without it nothing is tried
     * @throws TransferException UNAVAILABLE when this libfabric cannot register CUDA memory (no FI_HMEM, no regattr,
     *                           or {@code -FI_ENOSYS} / {@code -FI_EOPNOTSUPP}, which a libfabric built without CUDA
     *                           answers); PROVIDER for any other failure
     */
    LibfabricMemory registerDevice(DeviceMemory memory, boolean remoteWrite, boolean hmem, String provider) {
        if (memory == null || memory.lengthBytes() <= 0 || memory.address() == 0 || memory.ordinal() < 0) {
            throw new InvalidRequestException("device registration needs a non-empty range on a CUDA device, got "
                    + memory);
        }
        if (!hmem) {
            throw new TransferException(ErrorCategory.UNAVAILABLE, "libfabric provider " + provider
                    + " did not grant FI_HMEM: device memory cannot be registered (stage through host memory)");
        }
        MemorySegment regattr;
        try {
            regattr = FiCalls.function(endpoint.domain, FiLayouts.DOMAIN_MR, FiLayouts.FI_OPS_MR, "regattr");
        } catch (TransferException e) {
            throw new TransferException(ErrorCategory.UNAVAILABLE, "libfabric provider " + provider
                    + " has no fi_mr_regattr: " + e.getMessage(), e.providerCode(), e.providerMessage(), e);
        }
        long access = FiConst.Cap.FI_SEND | FiConst.Cap.FI_RECV | FiConst.Cap.FI_WRITE
                | (remoteWrite ? FiConst.Cap.FI_REMOTE_WRITE : 0);
        long requestedKey = requestKey(remoteWrite);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment iov = arena.allocate(FiLayouts.IOVEC);
            iov.set(JAVA_LONG, FiLayouts.IOV_BASE, memory.address());
            iov.set(JAVA_LONG, FiLayouts.IOV_LEN, memory.lengthBytes());
            // Zero-filled with headroom: newer libfabric appends fields (read only for API versions past 1.17).
            MemorySegment attr = arena.allocate(FiLayouts.FI_MR_ATTR.byteSize() + FiLayouts.INPUT_HEADROOM_BYTES, 8);
            attr.set(ADDRESS, FiLayouts.MR_ATTR_MR_IOV, iov);
            attr.set(JAVA_LONG, FiLayouts.MR_ATTR_IOV_COUNT, 1);
            attr.set(JAVA_LONG, FiLayouts.MR_ATTR_ACCESS, access);
            attr.set(JAVA_LONG, FiLayouts.MR_ATTR_OFFSET, 0);
            attr.set(JAVA_LONG, FiLayouts.MR_ATTR_REQUESTED_KEY, requestedKey);
            attr.set(JAVA_INT, FiLayouts.MR_ATTR_IFACE, FiConst.Enum.FI_HMEM_CUDA);
            attr.set(JAVA_INT, FiLayouts.MR_ATTR_DEVICE, memory.ordinal()); // device.cuda: an int at the union's start
            MemorySegment out = arena.allocate(ADDRESS);
            // Device-only: cuMemAlloc memory is not host-accessible, and shm picks its CUDA IPC path only then.
            int rc = FiCalls.mrRegattr(regattr, endpoint.domain, attr, deviceRegistrationFlags, out);
            if (rc != 0) {
                unusedKey(requestedKey);
                String what = "fi_mr_regattr(FI_HMEM_CUDA, device " + memory.ordinal() + ") of "
                        + memory.lengthBytes() + " bytes at 0x" + Long.toHexString(memory.address()) + " on " + provider;
                String text = library.strerror(-rc);
                if (rc == -FiConst.Err.FI_ENOSYS || rc == -FiConst.Err.FI_EOPNOTSUPP) {
                    throw new TransferException(ErrorCategory.UNAVAILABLE, what + " failed"
                            + " (this libfabric cannot register CUDA memory: it was built without CUDA, or CUDA could"
                            + " not be initialized; point libfabric.library at a CUDA-enabled build)", rc, text, null);
                }
                throw new TransferException(ErrorCategory.PROVIDER, what + " failed", rc, text, null);
            }
            MemorySegment mr = out.get(ADDRESS, 0).reinterpret(FiLayouts.FID_MR.byteSize());
            long key = mr.get(JAVA_LONG, FiLayouts.MR_KEY);
            long desc = mr.get(JAVA_LONG, FiLayouts.MR_MEM_DESC);
            LibfabricMemory m = new LibfabricMemory(this, null, memory.ordinal(), memory.address(),
                    memory.lengthBytes(), key, virtualAddressing ? memory.address() : 0, mr, desc);
            live.add(m); // never in remoteWritable: no arena whose closing the freed-memory check could see
            publish(m, remoteWrite, requestedKey);
            return m;
        }
    }

    /** The key to request: 0 when the provider picks keys; with a key table, one that names a table slot. */
    private long requestKey(boolean remoteWrite) {
        if (providerKeys) {
            return 0;
        }
        return keys != null ? keys.newKey(remoteWrite) : nextRequestedKey++;
    }

    private void unusedKey(long requestedKey) {
        if (keys != null) {
            keys.unused(requestedKey);
        }
    }

    /**
     * Publishes a remote-writable registration in the key table (after the MR exists, so a writer that passes the
     * check finds it at the target). The key must be the one requested: it names the table slot.
     */
    private void publish(LibfabricMemory m, boolean remoteWrite, long requestedKey) {
        if (keys == null) {
            return;
        }
        if (m.remoteKey() != requestedKey) {
            deregister(m);
            unusedKey(requestedKey);
            throw new TransferException(ErrorCategory.PROVIDER, "the provider gave key " + m.remoteKey()
                    + " instead of the requested " + requestedKey + ": the key table cannot describe it");
        }
        if (remoteWrite) {
            keys.publish(requestedKey, m.remoteBase(), m.remoteBase() + m.lengthBytes());
        }
    }

    /** Whether {@code memory} is a live device registration of this domain. */
    boolean isDevice(RegisteredMemory memory) {
        LibfabricMemory m = ours(memory);
        return m != null && m.isDevice();
    }

    /** The registration if {@code memory} is a live one of this domain, else null. */
    LibfabricMemory ours(RegisteredMemory memory) {
        return memory instanceof LibfabricMemory m && m.owner() == this && m.isLive() ? m : null;
    }

    void deregister(RegisteredMemory memory) {
        if (memory instanceof LibfabricMemory m && m.owner() == this && m.isLive()) {
            if (keys != null) {
                keys.withdraw(m.remoteKey()); // writers refuse it before the target's MR is gone
            }
            m.markDead();
            live.remove(m);
            remoteWritable.remove(m);
            FiEndpoint.closeFid(m.mr());
        }
    }

    /**
     * Deregisters every remote-writable registration whose memory its owner has freed (arena closed) while it was
     * still registered. Why: the provider writes incoming RMA payloads to the registered addresses with no idea
     * the memory went back to malloc; tcp;ofi_rxm wrote 8 KiB into a freed chunk that malloc had handed out again
     * and the JVM died later in {@code _int_malloc}. Incoming writes are received only while this domain makes
     * progress, i.e. inside {@code poll}, so deregistering before each poll makes a write that arrives after the
     * free fail with the provider's key error instead. Left open: an arena closed by another thread during a
     * poll that is receiving into it (nothing in the FFM API lets us hold off the close). No allocation.
     * Device registrations are exempt (never in the list): they have no arena; the engine deregisters them before
     * the device backend frees the allocation.
     */
    void deregisterFreed() {
        for (int i = remoteWritable.size() - 1; i >= 0; i--) {
            LibfabricMemory m = remoteWritable.get(i);
            if (!m.memoryAlive()) {
                deregister(m);
            }
        }
    }

    /** Closes every registration left (after the endpoint is closed). */
    void closeAll() {
        for (LibfabricMemory m : List.copyOf(live)) {
            deregister(m);
        }
    }
}
