package dev.transferengine.api;

/**
 * Immediate values as the wire sees them: unsigned 32-bit numbers. Java keeps them in an {@code int}, so
 * {@code 0xDEADBEEF} is the {@code int} -559038737; these helpers print and parse them unsigned, the way
 * the C side of a fabric, a log or another language would show them.
 *
 * <p>Every string form in this API ({@code toString()} of requests, exception messages) prints imms with
 * {@link #toUnsignedString(int)}; {@link #parse(String)} reads that form back, and the hex form too.
 *
 * <p>Stateless and thread-safe.
 */
public final class Imm {
    /** The largest imm value, {@code 0xFFFFFFFF} = 4294967295, as an unsigned number in a {@code long}. */
    public static final long MAX_UNSIGNED = 0xFFFF_FFFFL;

    private Imm() {
    }

    /** The imm as an unsigned number: {@code 0xDEADBEEF} gives 3735928559. */
    public static long toUnsignedLong(int imm) {
        return Integer.toUnsignedLong(imm);
    }

    /** The imm in unsigned decimal: {@code 0xDEADBEEF} gives {@code "3735928559"}. */
    public static String toUnsignedString(int imm) {
        return Integer.toUnsignedString(imm);
    }

    /** The imm in lower-case hex with a {@code 0x} prefix and no padding: {@code 0xDEADBEEF} gives {@code "0xdeadbeef"}. */
    public static String toHexString(int imm) {
        return "0x" + Integer.toHexString(imm);
    }

    /**
     * The {@code int} that carries the unsigned value {@code value}.
     *
     * @throws InvalidRequestException when {@code value} is outside 0..{@link #MAX_UNSIGNED}
     */
    public static int fromUnsigned(long value) {
        if (value < 0 || value > MAX_UNSIGNED) {
            throw new InvalidRequestException("an imm is an unsigned 32-bit value (0.." + MAX_UNSIGNED + "), got "
                    + value);
        }
        return (int) value;
    }

    /**
     * Parses an imm written as unsigned decimal ({@code "3735928559"}) or as hex with a {@code 0x} or
     * {@code 0X} prefix ({@code "0xdeadbeef"}, 1 to 8 digits). Signs, spaces and other digits than ASCII
     * ones are refused, so a value is never silently wrapped.
     *
     * @throws InvalidRequestException when {@code text} is null or not such a number, or is larger than
     *                                 {@link #MAX_UNSIGNED}
     */
    public static int parse(String text) {
        if (text == null) {
            throw new InvalidRequestException("imm: text is null");
        }
        boolean hex = text.startsWith("0x") || text.startsWith("0X");
        String digits = hex ? text.substring(2) : text;
        int radix = hex ? 16 : 10;
        if (digits.isEmpty() || digits.length() > (hex ? 8 : 10) || !asciiDigits(digits, radix)) {
            throw new InvalidRequestException("imm: '" + text + "' is not an unsigned 32-bit number"
                    + " (decimal 0.." + MAX_UNSIGNED + " or hex 0x0..0xffffffff)");
        }
        long value = Long.parseLong(digits, radix);
        if (value > MAX_UNSIGNED) {
            throw new InvalidRequestException("imm: '" + text + "' is larger than " + MAX_UNSIGNED + " (0xffffffff)");
        }
        return (int) value;
    }

    /** An optional imm for a {@code toString()}: the unsigned value, or {@code none}. */
    static String describe(java.util.OptionalInt imm) {
        return imm.isPresent() ? toUnsignedString(imm.getAsInt()) : "none";
    }

    /** ASCII digits of {@code radix} only: {@link Long#parseLong} would also take a sign and other scripts' digits. */
    private static boolean asciiDigits(String s, int radix) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= '0' && c <= '9')
                    || (radix == 16 && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
