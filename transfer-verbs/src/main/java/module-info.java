/**
 * The libibverbs (RC queue pair) provider: ConnectX-class NICs and Soft-RoCE, bound with FFM.
 *
 * <p>Only {@code dev.transferengine.verbs} is exported: {@code VerbsProvider} (the {@code ServiceLoader} entry)
 * and {@code VerbsOptions} (the option keys). The implementation (fabric, domains, connections, settings) and the
 * raw bindings live in the non-exported package {@code dev.transferengine.verbs.internal}. Users on the module
 * path grant native access with {@code --enable-native-access=dev.transferengine.verbs}.
 */
module dev.transferengine.verbs {
    requires dev.transferengine.api;

    exports dev.transferengine.verbs;

    provides dev.transferengine.spi.TransportProvider with dev.transferengine.verbs.VerbsProvider;
}
