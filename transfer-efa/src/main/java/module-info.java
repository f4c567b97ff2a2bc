/**
 * The libfabric transport provider: EFA in production, libfabric's {@code tcp;ofi_rxm} and {@code shm}
 * providers on any Linux machine. Raw FFM bindings live in the non-exported package
 * {@code dev.transferengine.efa.internal}; run with {@code --enable-native-access=dev.transferengine.efa}.
 */
module dev.transferengine.efa {
    requires transitive dev.transferengine.api;

    exports dev.transferengine.efa;

    provides dev.transferengine.spi.TransportProvider with dev.transferengine.efa.LibfabricProvider;
}
