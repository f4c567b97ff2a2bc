package dev.transferengine.api;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The opaque address of one domain (one NIC endpoint): raw {@code fi_getname} bytes for libfabric, GID,
 * QPN and QKey for verbs, a registry id for loopback. Immutable; equality is by bytes.
 *
 * <p>Two forms exist. {@link #bytes()} / {@link #of(byte[])} are the raw provider bytes.
 * {@link #encode()} / {@link #decode(byte[])} and {@link #toHex()} / {@link #fromHex(String)} are the
 * versioned wire form that applications exchange: {@code 'A', version=1, u16 length (LE), bytes}. The one
 * hex form is that of the wire form: {@link #toString()} prints it too, so a logged address can be pasted
 * into {@link #fromHex(String)}.
 */
public final class DomainAddress {
    static final byte MAGIC = 'A';
    static final byte VERSION = 1;
    /** Larger than any provider address we know (EFA 32 B, verbs 26 B, sockaddr_in6 28 B). */
    public static final int MAX_LENGTH = 1024;

    private final byte[] bytes;
    private final int hash;

    private DomainAddress(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    /** Wraps raw provider bytes (copied). */
    public static DomainAddress of(byte[] raw) {
        if (raw == null || raw.length == 0 || raw.length > MAX_LENGTH) {
            throw new InvalidRequestException("a domain address needs 1.." + MAX_LENGTH + " bytes, got "
                    + (raw == null ? "null" : raw.length));
        }
        return new DomainAddress(raw.clone());
    }

    /** The raw provider bytes (a copy). */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** Number of raw bytes. */
    public int length() {
        return bytes.length;
    }

    /** The raw byte at {@code index}. */
    public byte byteAt(int index) {
        return bytes[index];
    }

    /** The versioned wire form. */
    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(encodedLength()).order(ByteOrder.LITTLE_ENDIAN);
        writeTo(b);
        return b.array();
    }

    int encodedLength() {
        return 4 + bytes.length;
    }

    void writeTo(ByteBuffer b) {
        b.put(MAGIC).put(VERSION).putShort((short) bytes.length).put(bytes);
    }

    /** Decodes {@link #encode()}'s output; anything else raises {@link MalformedEncodingException}. */
    public static DomainAddress decode(byte[] encoded) {
        if (encoded == null) {
            throw new MalformedEncodingException("domain address: encoding is null");
        }
        ByteBuffer b = ByteBuffer.wrap(encoded).order(ByteOrder.LITTLE_ENDIAN);
        DomainAddress a = readFrom(b);
        if (b.hasRemaining()) {
            throw new MalformedEncodingException("domain address: " + b.remaining() + " trailing bytes");
        }
        return a;
    }

    static DomainAddress readFrom(ByteBuffer b) {
        if (b.remaining() < 4) {
            throw new MalformedEncodingException("domain address: truncated header (" + b.remaining() + " bytes)");
        }
        byte magic = b.get();
        byte version = b.get();
        if (magic != MAGIC) {
            throw new MalformedEncodingException("domain address: bad magic 0x" + Integer.toHexString(magic & 0xff));
        }
        if (version != VERSION) {
            throw new MalformedEncodingException("domain address: unsupported version " + version);
        }
        int len = Short.toUnsignedInt(b.getShort());
        if (len == 0 || len > MAX_LENGTH) {
            throw new MalformedEncodingException("domain address: length " + len + " out of range 1.." + MAX_LENGTH);
        }
        if (b.remaining() < len) {
            throw new MalformedEncodingException("domain address: truncated, needs " + len + " bytes, has " + b.remaining());
        }
        byte[] raw = new byte[len];
        b.get(raw);
        return new DomainAddress(raw);
    }

    /** Hex of the wire form ({@link #encode()}). */
    public String toHex() {
        return Hex.encode(encode());
    }

    /** Parses {@link #toHex()}'s output. */
    public static DomainAddress fromHex(String hex) {
        return decode(Hex.decode(hex, "domain address"));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DomainAddress other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    /** The same as {@link #toHex()}: the hex of the wire form, which {@link #fromHex(String)} reads back. */
    @Override
    public String toString() {
        return toHex();
    }
}
