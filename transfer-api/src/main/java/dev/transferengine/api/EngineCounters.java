package dev.transferengine.api;

/**
 * A live view of an engine's counters ({@link TransferEngine#counters()}), per group and per NIC.
 *
 * <p>Every read returns the latest value the group's worker published; reads are safe from any thread,
 * allocate nothing and never block the worker. Values read one after the other are not a consistent
 * snapshot (a transfer may complete between two reads). The same view can be read by another process from
 * a counters file ({@link TransferEngine.Builder#countersFile}, {@code te stat}).
 *
 * <p>Failed transfers are counted once in {@link Counter#TRANSFERS_FAILED} or {@link Counter#TRANSFER_TIMEOUTS}
 * and once in {@link #errors} under their category.
 */
public interface EngineCounters {
    /** Number of groups. */
    int groups();

    /** Number of NICs of {@code group}. */
    int nics(int group);

    /**
     * A group counter, or for a {@linkplain Counter#perNic() per-NIC} counter the sum over the group's NICs.
     *
     * @throws InvalidRequestException if {@code group} is out of range or {@code counter} is null
     */
    long get(int group, Counter counter);

    /**
     * A per-NIC counter of one NIC.
     *
     * @throws InvalidRequestException if {@code group} or {@code nic} is out of range or {@code counter} is a
     *                                 group counter
     */
    long get(int group, int nic, Counter counter);

    /** {@link #get(int, Counter)} summed over all groups. */
    default long total(Counter counter) {
        long sum = 0;
        for (int g = 0; g < groups(); g++) {
            sum += get(g, counter);
        }
        return sum;
    }

    /** Transfers of {@code group} that failed with {@code category}. */
    long errors(int group, ErrorCategory category);

    /** {@link #errors(int, ErrorCategory)} summed over all groups. */
    default long totalErrors(ErrorCategory category) {
        long sum = 0;
        for (int g = 0; g < groups(); g++) {
            sum += errors(g, category);
        }
        return sum;
    }
}
