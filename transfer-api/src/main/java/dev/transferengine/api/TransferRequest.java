package dev.transferengine.api;

import java.util.OptionalInt;

/**
 * A one-sided transfer the engine executes: {@link SingleWrite}, {@link PagedWrite}, {@link Scatter},
 * {@link Barrier} or {@link ImmWrite}. Requests are immutable values and may be submitted many times
 * (re-submitting the same instance allocates nothing in the engine). Arrays and lists passed to requests are
 * copied when the request is built, so changing them afterwards does not change the request.
 *
 * <p>Ordering: none. Writes of one request, and different requests, may land in any order; a receiver
 * learns completion only by counting imms (see {@link ImmAccounting}).
 */
public sealed interface TransferRequest permits SingleWrite, PagedWrite, Scatter, Barrier, ImmWrite {

    /** The immediate every write of this request carries, if any. */
    OptionalInt imm();

    static void requireNonNegative(long value, String name) {
        if (value < 0) {
            throw new InvalidRequestException(name + " must be >= 0, got " + value);
        }
    }

    /** A copy of {@code list} with no null elements (List.copyOf would throw a bare NullPointerException). */
    static <T> java.util.List<T> copyNoNulls(java.util.List<T> list, String name) {
        requireNonNull(list, name);
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) == null) {
                throw new InvalidRequestException(name + " element " + i + " is null");
            }
        }
        return java.util.List.copyOf(list);
    }

    static <T> T requireNonNull(T value, String name) {
        if (value == null) {
            throw new InvalidRequestException(name + " must not be null");
        }
        return value;
    }
}
