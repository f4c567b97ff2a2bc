package dev.transferengine.conformance;

import dev.transferengine.api.TransferEngine;

/**
 * One section of the conformance suite (data movement, imms, bad input): its tests run as a {@code @Nested}
 * group of {@link TransferConformanceSuite}, and the provider hooks come from the suite that encloses it, so a
 * provider still only subclasses the suite.
 */
public abstract class ConformanceSection extends ConformanceBase {
    /** The suite this section runs in (the enclosing instance of the {@code @Nested} class). */
    protected abstract ConformanceBase suite();

    @Override
    protected final TransferEngine.Builder newEngineBuilder(int nicsPerGroup) {
        return suite().newEngineBuilder(nicsPerGroup);
    }

    @Override
    protected final Class<?> suiteClass() {
        return suite().getClass();
    }

    @Override
    protected final int[] nicCounts() {
        return suite().nicCounts();
    }
}
