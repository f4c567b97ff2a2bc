package dev.transferengine.conformance;

import dev.transferengine.api.TransferEngine;

/**
 * The conformance suite on the loopback provider with reordering and a small delivery delay: writes of
 * one request and of different requests land in a seeded random order, as they may on EFA's SRD, so a
 * hidden ordering assumption in the engine (or in a test) fails here. Zero-length writes also skip the key
 * check, as InfiniBand allows, so an engine that sends one where a key must be checked (an empty shard of a
 * refused write) fails here too.
 */
class LoopbackReorderedConformanceTest extends TransferConformanceSuite {
    @Override
    protected TransferEngine.Builder newEngineBuilder(int nicsPerGroup) {
        return TransferEngine.builder().provider("loopback").groups(1, nicsPerGroup)
                .providerOption("loopback.reorder", "true")
                .providerOption("loopback.delayNanos", "20000")
                .providerOption("loopback.seed", "20251128")
                .providerOption("loopback.unkeyedZeroLength", "true");
    }
}
