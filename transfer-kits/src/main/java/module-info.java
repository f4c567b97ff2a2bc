/**
 * Workload kits: the protocols LLM systems build on a transfer engine, on the public API only
 * ({@code docs/workloads.md}).
 */
module dev.transferengine.kits {
    requires transitive dev.transferengine.api;

    exports dev.transferengine.kits.kv;
    exports dev.transferengine.kits.moe;
    exports dev.transferengine.kits.weights;
}
