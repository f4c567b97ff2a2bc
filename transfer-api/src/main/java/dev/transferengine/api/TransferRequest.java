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
}
