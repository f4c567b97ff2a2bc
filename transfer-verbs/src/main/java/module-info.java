/**
 * The libibverbs (RC queue pair) provider: ConnectX-class NICs and Soft-RoCE, bound with FFM.
 *
 * <p>Only {@code dev.transferengine.verbs} is exported; the raw bindings in
 * {@code dev.transferengine.verbs.internal} are not. Users on the module path grant native access with
 * {@code --enable-native-access=dev.transferengine.verbs}.
 */
module dev.transferengine.verbs {
    requires dev.transferengine.api;

    exports dev.transferengine.verbs;

    provides dev.transferengine.spi.TransportProvider with dev.transferengine.verbs.VerbsProvider;
}
