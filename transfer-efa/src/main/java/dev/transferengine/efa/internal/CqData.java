package dev.transferengine.efa.internal;

/**
 * The 64-bit remote CQ data a write carries, as the engine uses it: the user's 32-bit imm in bits 0-31, and
 * {@link #NO_IMM} (bit 32) on writes that carry no imm but are posted with FI_REMOTE_CQ_DATA anyway, so that
 * the target verifies their key ({@link LibfabricSettings#markImmlessWrites}). The target's reader drops entries
 * with the mark: they are never an imm. Stateless.
 */
final class CqData {
    /** The mark of a write without a user imm. A user imm never sets it: it is 32 bits, zero-extended. */
    static final long NO_IMM = 1L << 32;
    /** CQ data width (domain_attr.cq_data_size) the mark needs. */
    static final long BYTES_NEEDED = 8;

    private CqData() {
    }

    /** The data of a write: the imm zero-extended, or the mark when there is none. */
    static long of(boolean withImm, int imm) {
        return withImm ? Integer.toUnsignedLong(imm) : NO_IMM;
    }

    /** Whether a CQ entry's data is a user imm (and not the mark of an imm-less write). */
    static boolean isImm(long data) {
        return (data & NO_IMM) == 0;
    }
}
