package dev.transferengine.efa;

import dev.transferengine.testing.ProviderDomainContract;
import org.junit.jupiter.api.BeforeAll;

/** The SPI contract on libfabric shm (refused writes reported through the writer's key check, docs/reliability.md). */
class ShmDomainContractTest extends ProviderDomainContract {
    @BeforeAll
    static void libfabricPresent() {
        TestProviders.assumeLibfabric();
    }

    @Override
    protected dev.transferengine.testing.DomainPair openPair() {
        return new DomainPair(TestProviders.SHM.options);
    }
}
