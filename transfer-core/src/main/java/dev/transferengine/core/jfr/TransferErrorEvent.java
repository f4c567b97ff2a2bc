package dev.transferengine.core.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A transfer that failed, with the provider's own error code and text where there is one. */
@Name(TransferErrorEvent.NAME)
@Label("Transfer Error")
@Category({"TransferEngine"})
@Description("A failed transfer: its category, message and the provider's native error code")
@StackTrace(false)
public final class TransferErrorEvent extends Event {
    public static final String NAME = "dev.transferengine.TransferError";

    @Label("Group")
    public int group;

    @Label("Kind")
    public String kind;

    @Label("Category")
    public String category;

    @Label("Provider Code")
    @Description("The provider's native code (for example a negated FI_* value or an ibv_wc_status), 0 if none")
    public int providerCode;

    @Label("Message")
    public String message;
}
