package dev.transferengine.efa;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.conformance.TransferConformanceSuite;
import org.junit.jupiter.api.BeforeAll;

/**
 * The conformance suite, unchanged, on tcp;ofi_rxm with the EFA code paths forced
 * ({@link LibfabricOptions#FORCE_EFA_PATHS}): SENDs go through the staged receives that FI_RX_CQ_DATA needs, so
 * the engine's receive sets run on that path too. Two NICs per group only, to keep CI time down.
 */
class TcpEfaPathsConformanceTest extends TransferConformanceSuite {
    @BeforeAll
    static void libfabricPresent() {
        TestProviders.assumeLibfabric();
    }

    @Override
    protected TransferEngine.Builder newEngineBuilder(int nicsPerGroup) {
        return TransferEngine.builder().provider("tcp").groups(1, nicsPerGroup)
                .providerOption(LibfabricOptions.FORCE_EFA_PATHS, "true");
    }

    @Override
    protected int[] nicCounts() {
        return new int[] {2};
    }
}
