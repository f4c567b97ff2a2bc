package dev.transferengine.verbs;

import dev.transferengine.spi.DomainInfo;
import dev.transferengine.spi.ProviderFabric;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The shared {@link dev.transferengine.testing.DomainPair} on verbs: the two domains of one fabric ("rxe0" and its
 * extra endpoint "rxe0.1" on a one-device machine). Public for the tests in {@code verbs.internal}.
 */
public final class DomainPair extends dev.transferengine.testing.DomainPair {

    public DomainPair(Map<String, String> options) {
        this(open(options));
    }

    public DomainPair() {
        this(Map.of());
    }

    private DomainPair(ProviderFabric fabric) {
        super(fabric, domains(fabric).get(0), domains(fabric).get(1));
    }

    private static ProviderFabric open(Map<String, String> options) {
        SoftRoce.requireDevice();
        return new VerbsProvider().open(options, 2);
    }

    private static List<DomainInfo> domains(ProviderFabric fabric) {
        List<DomainInfo> domains = fabric.domains();
        if (domains.size() != 2) {
            fabric.close();
            assertEquals(2, domains.size(), "one port listed twice, or two ports: " + domains);
        }
        return domains;
    }
}
