package dev.transferengine.conformance;

import dev.transferengine.api.TransferEngine;

/** The conformance suite on the in-process loopback provider, delivering in posting order. */
class LoopbackConformanceTest extends TransferConformanceSuite {
    @Override
    protected TransferEngine.Builder newEngineBuilder(int nicsPerGroup) {
        return TransferEngine.builder().provider("loopback").groups(1, nicsPerGroup);
    }
}
