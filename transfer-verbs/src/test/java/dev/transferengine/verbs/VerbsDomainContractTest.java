package dev.transferengine.verbs;

import dev.transferengine.testing.ProviderDomainContract;
import org.junit.jupiter.api.Tag;

/** The SPI contract on verbs, in the Soft-RoCE guest (rxe0 and its second endpoint). */
@Tag(SoftRoce.TAG)
class VerbsDomainContractTest extends ProviderDomainContract {
    @Override
    protected dev.transferengine.testing.DomainPair openPair() {
        return new DomainPair();
    }
}
