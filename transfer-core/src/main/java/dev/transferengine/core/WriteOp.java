package dev.transferengine.core;

import dev.transferengine.api.RemoteRegion;
import dev.transferengine.spi.RegisteredMemory;

/**
 * One RDMA WRITE computed from a plan, in a mutable scratch object the worker reuses (no allocation per
 * write). {@code nic} selects the local domain, the source registration and, modulo the peer's NIC
 * count, the destination key: always together.
 */
final class WriteOp {
    int nic;
    RegisteredMemory src;
    long srcAddress;
    long length;
    RemoteRegion.NicKey dst;
    /** The destination region and the write's offset in it (the same-host GPU path addresses by offset). */
    RemoteRegion region;
    long dstOffset;
    long remoteAddress;
    boolean withImm;
    int imm;

    void set(int nicIndex, RegisteredMemory source, long sourceAddress, long bytes, RemoteRegion region,
             long dstOffset) {
        nic = nicIndex;
        src = source;
        srcAddress = sourceAddress;
        length = bytes;
        dst = region.nic(nicIndex % region.nicCount());
        this.region = region;
        this.dstOffset = dstOffset;
        remoteAddress = dst.remoteBase() + dstOffset;
    }
}
