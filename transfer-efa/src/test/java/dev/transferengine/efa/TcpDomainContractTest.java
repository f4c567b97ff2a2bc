package dev.transferengine.efa;

import dev.transferengine.testing.ProviderDomainContract;
import org.junit.jupiter.api.BeforeAll;

/** The SPI contract on libfabric tcp;ofi_rxm. */
class TcpDomainContractTest extends ProviderDomainContract {
    @BeforeAll
    static void libfabricPresent() {
        TestProviders.assumeLibfabric();
    }

    @Override
    protected dev.transferengine.testing.DomainPair openPair() {
        return new DomainPair(TestProviders.TCP.options);
    }
}
