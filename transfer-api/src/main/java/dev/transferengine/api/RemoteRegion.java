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
 * <p>Immutable and thread-safe. The encoding is versioned:
 * {@code 'R', version=1, u64 base, u64 length, u8 nicCount, nicCount x (address, u64 rkey, u64 remoteBase)}
 * (little-endian); decoding anything else raises {@link MalformedEncodingException}.
 */
public final class RemoteRegion {
    static final byte MAGIC = 'R';
    static final byte VERSION = 1;
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

    private final long baseAddress;
    private final long lengthBytes;
    private final List<NicKey> nics;
    /** The same keys as an array: {@link #nic(int)} is on every write's path. */
    private final NicKey[] nicArray;

    public RemoteRegion(long baseAddress, long lengthBytes, List<NicKey> nics) {
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
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put(VERSION).putLong(baseAddress).putLong(lengthBytes).put((byte) nics.size());
        for (NicKey k : nics) {
            k.address().writeTo(b);
            b.putLong(k.remoteKey()).putLong(k.remoteBase());
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
            if (version != VERSION) {
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
            if (b.hasRemaining()) {
                throw new MalformedEncodingException("remote region: " + b.remaining() + " trailing bytes");
            }
            return new RemoteRegion(base, length, List.of(keys));
        } catch (BufferUnderflowException e) {
            throw new MalformedEncodingException("remote region: truncated encoding (" + encoded.length + " bytes)", e);
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
                && r.nics.equals(nics);
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
