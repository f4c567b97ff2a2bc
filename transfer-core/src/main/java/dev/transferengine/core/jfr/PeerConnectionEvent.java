package dev.transferengine.core.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** The first use of a peer address on a NIC: the provider inserts the address (and may connect). */
@Name(PeerConnectionEvent.NAME)
@Label("Peer Connection")
@Category({"TransferEngine"})
@Description("A peer address inserted into a NIC's address vector (the first transfer to that peer on that NIC)")
@StackTrace(false)
public final class PeerConnectionEvent extends Event {
    public static final String NAME = "dev.transferengine.PeerConnection";

    @Label("Group")
    public int group;

    @Label("NIC")
    public int nic;

    @Label("Peer")
    @Description("The peer's address (DomainAddress hex)")
    public String peer;

    @Label("Outcome")
    @Description("OK, or the error category")
    public String outcome;
}
