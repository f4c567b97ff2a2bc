/** Binds TransferEngine counters to Micrometer ({@code docs/operations.md}, "Metrics"). */
module dev.transferengine.micrometer {
    requires transitive dev.transferengine.api;
    requires transitive micrometer.core;

    exports dev.transferengine.micrometer;
}
