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
            case Scatter s -> s.routing() instanceof ScatterRouting.ShardBytes
                    ? (long) s.targets().size() * senderNics
                    : s.targets().size();
            case Barrier b -> b.dsts().size();
            case ImmWrite i -> 1;
        };
    }

    /** The number of writes (shards) a single write with {@code routing} becomes over {@code n} NICs. */
    public static int writesOf(Routing routing, int n) {
        return switch (routing) {
            case Routing.Sharded s -> s.shards() == 0 ? n : s.shards();
            case Routing.Pinned p -> 1;
        };
    }
}
