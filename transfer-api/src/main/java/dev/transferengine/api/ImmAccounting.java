package dev.transferengine.api;

/**
 * How many immediates a request delivers to its receiver(s), so the receiver can
 * {@link TransferEngine#expectImms expect} or {@link ImmCounter#await await} the right count.
 *
 * <p>Rules (with {@code n} = NICs of the sender's group):
 * <ul>
 *   <li>{@link SingleWrite}: one imm per shard, empty shards included: {@code shards} (0 meaning n) for
 *       {@link Routing.Sharded}, 1 for {@link Routing.Pinned};</li>
 *   <li>{@link PagedWrite}: one per page;</li>
 *   <li>{@link Scatter}: one per destination with {@link ScatterRouting.ShardPeers} or
 *       {@link ScatterRouting.Pinned}; {@code n} per destination with {@link ScatterRouting.ShardBytes};</li>
 *   <li>{@link ImmWrite}: 1; {@link Barrier}: one per destination;</li>
 *   <li>any request without an imm: 0.</li>
 * </ul>
 * For requests with several destinations the count is the total over all of them.
 *
 * <p>{@link #immsProduced} counts a built request. A receiver or a schedule that has no regions to build one with
 * counts from the shape alone: {@link #writesOf} for a single write, {@link #immsPerTarget} for each destination of
 * a scatter, and the page count for a paged write. All of them need the sender's NIC count, which nothing carries
 * to the receiver: the two sides must agree on it.
 *
 * <p>Stateless and thread-safe.
 */
public final class ImmAccounting {
    private ImmAccounting() {
    }

    /**
     * @param request    the request
     * @param senderNics the number of NICs in the sender's group
     * @return the number of imms the request produces
     */
    public static long immsProduced(TransferRequest request, int senderNics) {
        if (senderNics <= 0) {
            throw new InvalidRequestException("senderNics must be > 0, got " + senderNics);
        }
        if (request.imm().isEmpty()) {
            return 0;
        }
        return switch (request) {
            case SingleWrite w -> writesOf(w.routing(), senderNics);
            case PagedWrite p -> p.pageCount();
            case Scatter s -> (long) s.targets().size() * immsPerTarget(s.routing(), senderNics);
            case Barrier b -> b.dsts().size();
            case ImmWrite i -> 1;
        };
    }

    /**
     * The imms one target of a scatter delivers to its destination, whatever its length (zero included): 1 with
     * {@link ScatterRouting.ShardPeers} or {@link ScatterRouting.Pinned}, {@code senderNics} with
     * {@link ScatterRouting.ShardBytes} (one per NIC's share of the bytes), when the scatter has an imm. A
     * receiver expects this times the number of targets addressed to it.
     *
     * @throws InvalidRequestException when {@code routing} is null or {@code senderNics} is not positive
     */
    public static int immsPerTarget(ScatterRouting routing, int senderNics) {
        if (routing == null) {
            throw new InvalidRequestException("routing must not be null");
        }
        if (senderNics <= 0) {
            throw new InvalidRequestException("senderNics must be > 0, got " + senderNics);
        }
        return routing instanceof ScatterRouting.ShardBytes ? senderNics : 1;
    }

    /**
     * The number of writes (shards) a single write with {@code routing} becomes over {@code n} NICs, which is its
     * number of imms when it has one. Needs no region, so a receiver can count before any request exists.
     */
    public static int writesOf(Routing routing, int n) {
        return switch (routing) {
            case Routing.Sharded s -> s.shards() == 0 ? n : s.shards();
            case Routing.Pinned p -> 1;
        };
    }
}
