package dev.transferengine.kits.kv;

import dev.transferengine.api.TransferEngine;

/** The KV hand-off suite on the loopback provider, with reordered delivery (writes land in any order). */
class LoopbackKvHandOffTest extends KvHandOffSuite {
    @Override
    protected TransferEngine.Builder engine(String name) {
        return TransferEngine.builder().provider("loopback").providerOption("loopback.reorder", "true");
    }
}
