package dev.transferengine.core.loopback;

import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.testing.DomainPair;
import dev.transferengine.testing.ProviderDomainContract;

import java.util.Map;

/** The SPI contract on loopback, with a small queue so that RETRY is reached. */
class LoopbackDomainContractTest extends ProviderDomainContract {
    @Override
    protected DomainPair openPair() {
        ProviderFabric fabric = new LoopbackProvider().open(Map.of("loopback.queueDepth", "64"), 2);
        return new DomainPair(fabric, fabric.domains().get(0), fabric.domains().get(1));
    }
}
