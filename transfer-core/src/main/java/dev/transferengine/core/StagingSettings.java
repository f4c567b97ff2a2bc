package dev.transferengine.core;

import dev.transferengine.api.InvalidRequestException;

/**
 * Sizes of the pinned host bounce buffers a group stages device memory through ({@link StagingDomain}).
 *
 * @param slotBytes the largest piece one staged write moves at once; longer writes go in pieces
 * @param slots     pieces staged at once per NIC (bounce memory per NIC = slots x slotBytes)
 *                  (engine options {@code staging.slotBytes} and {@code staging.slots}: {@link EngineSettings})
 */
record StagingSettings(long slotBytes, int slots) {
    static final long DEFAULT_SLOT_BYTES = 4L << 20;
    static final int DEFAULT_SLOTS = 8;

    StagingSettings {
        if (slotBytes < 4096 || slotBytes > (1L << 30) || slots < 1 || slots > 1024) {
            throw new InvalidRequestException("staging needs 4 KiB <= slotBytes <= 1 GiB and 1 <= slots <= 1024, got "
                    + slotBytes + " x " + slots);
        }
    }

    static final String SLOT_BYTES = "staging.slotBytes";
    static final String SLOTS = "staging.slots";
}
