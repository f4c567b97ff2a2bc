package dev.transferengine.api;

/** What a registration allows. */
public enum Access {
    /** Only the local engine may use the region, as a write source or receive buffer. No descriptor. */
    LOCAL,
    /** Peers may also write into the region through its {@link RemoteRegion} descriptor. */
    REMOTE_WRITE
}
