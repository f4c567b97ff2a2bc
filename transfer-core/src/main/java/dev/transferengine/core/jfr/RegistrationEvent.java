package dev.transferengine.core.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A memory registration or deregistration on every NIC of a group (pinning pages can take long). */
@Name(RegistrationEvent.NAME)
@Label("Memory Registration")
@Category({"TransferEngine"})
@Description("Registering or deregistering memory with a group's NICs")
@StackTrace(true)
public final class RegistrationEvent extends Event {
    public static final String NAME = "dev.transferengine.Registration";

    @Label("Operation")
    @Description("register or deregister")
    public String operation;

    @Label("Bytes")
    @DataAmount
    public long bytes;

    @Label("Memory")
    @Description("host, or the device (cuda:N)")
    public String memory;

    @Label("Group")
    public int group;

    @Label("Outcome")
    @Description("OK, or the error category")
    public String outcome;
}
