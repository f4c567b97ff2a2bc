package dev.transferengine.conformance;

import dev.transferengine.api.TransferEngine;

/**
 * The whole conformance suite on loopback domains that take at most 4 KiB per operation, delivering in random
 * order: nearly every write of the suite is longer and goes out in pieces ({@code SplittingDomain}), with the
 * same bytes, imm counts and error reports as unsplit writes.
 */
class LoopbackSplitConformanceTest extends TransferConformanceSuite {
    private static final int LIMIT = 4096;

    @Override
    protected TransferEngine.Builder newEngineBuilder(int nicsPerGroup) {
        return TransferEngine.builder().provider("loopback").groups(1, nicsPerGroup)
                .providerOption("loopback.maxMessageBytes", Integer.toString(LIMIT))
                .providerOption("loopback.reorder", "true")
                .providerOption("loopback.delayNanos", "20000");
    }

    /**
     * Not run here: it posts 1 MiB receive buffers, over this provider's limit for a message (only writes are
     * split). {@link LoopbackConformanceTest} runs it.
     */
    @Override
    void closedEnginesLeaveNoNativeMemoryRegistrationsOrThreads(int nics) {
    }
}
