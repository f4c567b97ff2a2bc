package dev.transferengine.api;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Objects;

/**
 * The serialisable descriptor of a registered region that peers may write into: its base address and
 * length, plus one {@link NicKey} (domain address, remote key, remote address base) per NIC of the group
 * that registered it. Obtained from {@link MemoryRegion#descriptor()} on the owner, sent to peers as
 * bytes ({@link #encode()}) or hex ({@link #toHex()}), decoded there and used as a write destination.
 *
 * <p>A region of GPU memory may also carry a {@link DeviceShare}: what a writer on the same host needs to copy
 * into it directly over CUDA IPC instead of through a NIC.
 *
 * <p>Immutable and thread-safe. The encoding is versioned:
 * {@code 'R', version=1, u64 base, u64 length, u8 nicCount, nicCount x (address, u64 rkey, u64 remoteBase)}
 * (little-endian); version 2 appends a {@link DeviceShare}: {@code 16 bytes host id, u32 ordinal, 64 bytes IPC
 * handle, u64 allocation offset, u16 path length, path (UTF-8), u32 liveness slot, u64 generation}. Decoding
 * anything else raises {@link MalformedEncodingException}.
 */
public final class RemoteRegion {
    static final byte MAGIC = 'R';
    static final byte VERSION = 1;
    static final byte VERSION_WITH_SHARE = 2;
    /** More NICs per group than any machine has; bounds decoding of garbage. */
    public static final int MAX_NICS = 64;

    /**
     * One NIC's view of the region.
     *
     * @param address    the NIC's domain address
     * @param remoteKey  the key that authorises writes through that NIC
     * @param remoteBase the value the provider adds a byte offset to when addressing this region: the
     *                   region's virtual address for providers with virtual addressing (shm, EFA, verbs),
     *                   0 for offset-addressed ones (libfabric tcp)
     */
    public record NicKey(DomainAddress address, long remoteKey, long remoteBase) {
        public NicKey {
            Objects.requireNonNull(address, "address");
        }
    }

    /**
     * How a writer on the same host reaches the region's GPU memory without a NIC: the allocation's CUDA IPC
     * handle, where the region starts inside it, and a liveness word the owner clears when the region closes
     * (an IPC mapping checks no key, so a writer reads the word before each copy: a stale descriptor is refused
     * instead of writing into memory the owner reused).
     *
     * @param hostId           identity of the owner's host (Linux boot id); a writer elsewhere ignores the share
     * @param ordinal          the owner's CUDA device
     * @param ipcHandle        the allocation's {@code cuIpcGetMemHandle} handle (64 bytes)
     * @param allocationOffset byte 0 of the region minus the allocation's base
     * @param livenessPath     the owner's liveness file (shared memory, one 8-byte word per shared region)
     * @param livenessSlot     the word's index in that file
     * @param generation       the word's value while this registration is open (never 0)
     */
    public record DeviceShare(byte[] hostId, int ordinal, byte[] ipcHandle, long allocationOffset, String livenessPath,
                              int livenessSlot, long generation) {
        public static final int HOST_ID_BYTES = 16;
        public static final int HANDLE_BYTES = 64;
        public static final int MAX_PATH_BYTES = 1024;

        public DeviceShare {
            if (hostId == null || hostId.length != HOST_ID_BYTES || ipcHandle == null
                    || ipcHandle.length != HANDLE_BYTES || livenessPath == null || ordinal < 0 || allocationOffset < 0
                    || livenessSlot < 0 || generation == 0
                    || livenessPath.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
                throw new InvalidRequestException("a device share needs a " + HOST_ID_BYTES + "-byte host id, a "
                        + HANDLE_BYTES + "-byte IPC handle, a liveness path of at most " + MAX_PATH_BYTES
                        + " bytes, a slot >= 0, a non-zero generation and offsets >= 0");
            }
            hostId = hostId.clone();
            ipcHandle = ipcHandle.clone();
        }

        @Override
        public byte[] hostId() {
            return hostId.clone();
        }

        @Override
        public byte[] ipcHandle() {
            return ipcHandle.clone();
        }

        /** Whether the owner runs on the host with this id. */
        public boolean isOnHost(byte[] id) {
            return java.util.Arrays.equals(hostId, id);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof DeviceShare d && java.util.Arrays.equals(d.hostId, hostId) && d.ordinal == ordinal
                    && java.util.Arrays.equals(d.ipcHandle, ipcHandle) && d.allocationOffset == allocationOffset
                    && d.livenessPath.equals(livenessPath) && d.livenessSlot == livenessSlot
                    && d.generation == generation;
        }

        @Override
        public int hashCode() {
            return Objects.hash(java.util.Arrays.hashCode(ipcHandle), livenessPath, livenessSlot, generation);
        }

        @Override
        public String toString() {
            return "DeviceShare[cuda:" + ordinal + ", offset " + allocationOffset + ", " + livenessPath + "#"
                    + livenessSlot + "]";
        }
    }

    private final long baseAddress;
    private final long lengthBytes;
    private final List<NicKey> nics;
    /** The same keys as an array: {@link #nic(int)} is on every write's path. */
    private final NicKey[] nicArray;
    private final DeviceShare share;

    public RemoteRegion(long baseAddress, long lengthBytes, List<NicKey> nics) {
        this(baseAddress, lengthBytes, nics, null);
    }

    /** @param share how a same-host writer reaches the region's GPU memory, or null */
    public RemoteRegion(long baseAddress, long lengthBytes, List<NicKey> nics, DeviceShare share) {
        if (lengthBytes < 0) {
            throw new InvalidRequestException("region length must be >= 0, got " + lengthBytes);
        }
        if (nics == null || nics.isEmpty() || nics.size() > MAX_NICS) {
            throw new InvalidRequestException("a remote region needs 1.." + MAX_NICS + " NIC keys, got "
                    + (nics == null ? "null" : nics.size()));
        }
        this.baseAddress = baseAddress;
        this.lengthBytes = lengthBytes;
        this.nics = List.copyOf(nics);
        this.nicArray = this.nics.toArray(new NicKey[0]);
        this.share = share;
    }

    /** The same-host GPU share, or null (host memory, or a share was not possible). */
    public DeviceShare deviceShare() {
        return share;
    }

    /** The owner's virtual address of byte 0 of the region. */
    public long baseAddress() {
        return baseAddress;
    }

    /** The region's length in bytes; writes outside {@code [0, lengthBytes)} are rejected before posting. */
    public long lengthBytes() {
        return lengthBytes;
    }

    /** Number of NICs the owner registered the region on. */
    public int nicCount() {
        return nicArray.length;
    }

    /** The key of the owner's NIC {@code index}. */
    public NicKey nic(int index) {
        return nicArray[index];
    }

    /** All NIC keys, in NIC order. */
    public List<NicKey> nics() {
        return nics;
    }

    /** The versioned byte encoding. */
    public byte[] encode() {
        int size = 1 + 1 + 8 + 8 + 1;
        for (NicKey k : nics) {
            size += k.address().encodedLength() + 16;
        }
        byte[] path = share == null ? null : share.livenessPath().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (share != null) {
            size += DeviceShare.HOST_ID_BYTES + 4 + DeviceShare.HANDLE_BYTES + 8 + 2 + path.length + 4 + 8;
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put(share == null ? VERSION : VERSION_WITH_SHARE).putLong(baseAddress).putLong(lengthBytes)
                .put((byte) nics.size());
        for (NicKey k : nics) {
            k.address().writeTo(b);
            b.putLong(k.remoteKey()).putLong(k.remoteBase());
        }
        if (share != null) {
            b.put(share.hostId).putInt(share.ordinal()).put(share.ipcHandle).putLong(share.allocationOffset())
                    .putShort((short) path.length).put(path).putInt(share.livenessSlot()).putLong(share.generation());
        }
        return b.array();
    }

    /** Decodes {@link #encode()}'s output; garbage or truncation raises {@link MalformedEncodingException}. */
    public static RemoteRegion decode(byte[] encoded) {
        if (encoded == null) {
            throw new MalformedEncodingException("remote region: encoding is null");
        }
        ByteBuffer b = ByteBuffer.wrap(encoded).order(ByteOrder.LITTLE_ENDIAN);
        try {
            byte magic = b.get();
            if (magic != MAGIC) {
                throw new MalformedEncodingException("remote region: bad magic 0x" + Integer.toHexString(magic & 0xff));
            }
            byte version = b.get();
            if (version != VERSION && version != VERSION_WITH_SHARE) {
                throw new MalformedEncodingException("remote region: unsupported version " + version);
            }
            long base = b.getLong();
            long length = b.getLong();
            if (length < 0) {
                throw new MalformedEncodingException("remote region: negative length " + length);
            }
            int count = Byte.toUnsignedInt(b.get());
            if (count == 0 || count > MAX_NICS) {
                throw new MalformedEncodingException("remote region: NIC count " + count + " out of range 1.." + MAX_NICS);
            }
            NicKey[] keys = new NicKey[count];
            for (int i = 0; i < count; i++) {
                DomainAddress a = DomainAddress.readFrom(b);
                keys[i] = new NicKey(a, b.getLong(), b.getLong());
            }
            DeviceShare share = version == VERSION_WITH_SHARE ? readShare(b) : null;
            if (b.hasRemaining()) {
                throw new MalformedEncodingException("remote region: " + b.remaining() + " trailing bytes");
            }
            return new RemoteRegion(base, length, List.of(keys), share);
        } catch (BufferUnderflowException e) {
            throw new MalformedEncodingException("remote region: truncated encoding (" + encoded.length + " bytes)", e);
        }
    }

    private static DeviceShare readShare(ByteBuffer b) {
        byte[] host = new byte[DeviceShare.HOST_ID_BYTES];
        b.get(host);
        int ordinal = b.getInt();
        byte[] handle = new byte[DeviceShare.HANDLE_BYTES];
        b.get(handle);
        long offset = b.getLong();
        int pathLength = Short.toUnsignedInt(b.getShort());
        if (pathLength > DeviceShare.MAX_PATH_BYTES || pathLength > b.remaining()) {
            throw new MalformedEncodingException("remote region: device share path of " + pathLength + " bytes");
        }
        byte[] path = new byte[pathLength];
        b.get(path);
        int slot = b.getInt();
        long generation = b.getLong();
        try {
            return new DeviceShare(host, ordinal, handle, offset, new String(path, java.nio.charset.StandardCharsets.UTF_8),
                    slot, generation);
        } catch (InvalidRequestException e) {
            throw new MalformedEncodingException("remote region: bad device share: " + e.getMessage(), e);
        }
    }

    /** Hex of {@link #encode()}. */
    public String toHex() {
        return Hex.encode(encode());
    }

    /** Parses {@link #toHex()}'s output. */
    public static RemoteRegion fromHex(String hex) {
        return decode(Hex.decode(hex, "remote region"));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RemoteRegion r && r.baseAddress == baseAddress && r.lengthBytes == lengthBytes
                && r.nics.equals(nics) && Objects.equals(r.share, share);
    }

    @Override
    public int hashCode() {
        return Objects.hash(baseAddress, lengthBytes, nics);
    }

    @Override
    public String toString() {
        return "RemoteRegion[base=0x" + Long.toHexString(baseAddress) + ", length=" + lengthBytes + ", nics="
                + nics.size() + "]";
    }
}
