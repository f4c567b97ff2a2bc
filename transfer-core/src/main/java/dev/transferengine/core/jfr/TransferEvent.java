package dev.transferengine.core.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;

/**
 * One transfer, from the worker accepting it to its outcome. Recorded on the group's worker thread.
 *
 * <p>The worker keeps one instance per pooled transfer slot and re-arms it ({@link #begin()}) for every transfer
 * that uses the slot, so recording costs no allocation. The default threshold (1 ms) records slow transfers only;
 * lower it to see every one ({@code jfr configure dev.transferengine.Transfer#threshold=0ms}, or a
 * {@code .jfc} file). Stack traces are off: the worker's stack says nothing about the caller.
 */
@Name(TransferEvent.NAME)
@Label("Transfer")
@Category({"TransferEngine"})
@Description("A transfer (write request or send) from acceptance by the worker to its outcome")
@StackTrace(false)
@Enabled(true)
@Threshold("1 ms")
public final class TransferEvent extends Event {
    public static final String NAME = "dev.transferengine.Transfer";

    @Label("Kind")
    @Description("single, paged, scatter, barrier, imm or send")
    public String kind;

    @Label("Bytes")
    @DataAmount
    public long bytes;

    @Label("Writes")
    @Description("Writes (shards, pages, pieces) the transfer was posted as")
    public int writes;

    @Label("NICs")
    public int nics;

    @Label("Group")
    public int group;

    @Label("Provider")
    public String provider;

    @Label("Outcome")
    @Description("OK, or the error category")
    public String outcome;
}
