/**
 * A minimal application as a named module: it requires only the API; the engine (core) and the providers
 * (efa, verbs) and the CUDA backend join the boot layer as service providers.
 */
module dev.transferengine.smoke {
    requires dev.transferengine.api;
}
