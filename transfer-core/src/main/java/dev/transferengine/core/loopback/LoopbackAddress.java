package dev.transferengine.core.loopback;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.InvalidRequestException;

/**
 * The raw address of a loopback domain: the byte {@code 'L'} followed by the domain's 64-bit registry id,
 * little endian (9 bytes). Stateless; thread-safe.
 */
final class LoopbackAddress {
    static final byte MAGIC = 'L';
    static final int LENGTH = 1 + Long.BYTES;

    private LoopbackAddress() {
    }

    static DomainAddress of(long id) {
        byte[] raw = new byte[LENGTH];
        raw[0] = MAGIC;
        for (int i = 0; i < Long.BYTES; i++) {
            raw[1 + i] = (byte) (id >>> (8 * i));
        }
        return DomainAddress.of(raw);
    }

    /** The registry id inside {@code address}; anything that is not a loopback address is rejected. */
    static long idOf(DomainAddress address) {
        if (address == null) {
            throw new InvalidRequestException("peer address is null");
        }
        if (address.length() != LENGTH || address.byteAt(0) != MAGIC) {
            throw new InvalidRequestException("not a loopback address (want 'L' + 8-byte id, " + LENGTH
                    + " bytes): " + address);
        }
        long id = 0;
        for (int i = 0; i < Long.BYTES; i++) {
            id |= (address.byteAt(1 + i) & 0xFFL) << (8 * i);
        }
        return id;
    }
}
