/**
 * The TransferEngine implementation: workers, NIC striping, imm counting, the loopback provider and
 * shared FFM helpers for providers. Applications depend on {@code dev.transferengine.api} and put this
 * module on the module path (or class path); it registers itself through {@link java.util.ServiceLoader}.
 */
module dev.transferengine.core {
    requires transitive dev.transferengine.api;
    requires jdk.jfr;
    requires org.agrona; // the worker's Agent, AgentRunner and AgentInvoker (an automatic module)

    exports dev.transferengine.core;
    exports dev.transferengine.core.counters;
    // JFR instantiates and reads the event classes.
    exports dev.transferengine.core.jfr to jdk.jfr;
    exports dev.transferengine.core.ffm to dev.transferengine.efa, dev.transferengine.verbs;

    uses dev.transferengine.spi.TransportProvider;
    uses dev.transferengine.spi.DeviceBackend;

    provides dev.transferengine.spi.EngineFactory with dev.transferengine.core.DefaultEngineFactory;
    provides dev.transferengine.spi.TransportProvider with dev.transferengine.core.loopback.LoopbackProvider;
}
