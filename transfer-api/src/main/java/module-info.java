/**
 * TransferEngine public API and provider SPI.
 *
 * <p>{@code dev.transferengine.api} is what applications use; {@code dev.transferengine.spi} is what
 * providers (loopback, libfabric, verbs) and the engine implementation plug into. The engine itself is
 * found with {@link java.util.ServiceLoader} through {@link dev.transferengine.spi.EngineFactory}.
 */
module dev.transferengine.api {
    exports dev.transferengine.api;
    exports dev.transferengine.spi;
    exports dev.transferengine.api.topology;
    // Engine-only operations on the counters (creating them, counting into them): for the engine, not applications.
    exports dev.transferengine.api.internal to dev.transferengine.core;

    uses dev.transferengine.spi.EngineFactory;
    uses dev.transferengine.spi.TransportProvider;
}
