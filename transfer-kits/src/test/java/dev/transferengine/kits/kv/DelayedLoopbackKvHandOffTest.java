package dev.transferengine.kits.kv;

import dev.transferengine.api.TransferEngine;

/**
 * The KV hand-off suite on loopback with every operation applied 20 ms after it was posted, in random order: a
 * cancel then always meets writes still in flight, and the decoder must wait for the imms the prefiller's
 * confirmation names before it releases the pages.
 */
class DelayedLoopbackKvHandOffTest extends KvHandOffSuite {
    @Override
    protected TransferEngine.Builder engine(String name) {
        return TransferEngine.builder().provider("loopback").providerOption("loopback.reorder", "true")
                .providerOption("loopback.delayNanos", Long.toString(20_000_000L));
    }
}
