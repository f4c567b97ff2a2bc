package dev.transferengine.verbs;

import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.spi.Availability;
import dev.transferengine.spi.TransportProvider;
import dev.transferengine.verbs.internal.VerbsLibrary;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Discovery through ServiceLoader, and the reason given on machines without RDMA support (host side). */
class VerbsAvailabilityTest {

    @Test
    void serviceLoaderFindsTheVerbsProvider() {
        TransportProvider found = ServiceLoader.load(TransportProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("verbs"))
                .findFirst().orElseThrow(() -> new AssertionError("no provider named verbs"));
        assertEquals(VerbsProvider.class, found.getClass());
    }

    @Test
    void kernelWithoutRdmaMeansNoDevicesWithTheReason() {
        Assumptions.assumeTrue(VerbsLibrary.loadFailure() == null, "libibverbs1 is not installed");
        Assumptions.assumeFalse(Files.exists(Path.of("/sys/class/infiniband_verbs")),
                "this kernel has RDMA support; the no-device path cannot be observed here");
        VerbsProvider provider = new VerbsProvider();
        Availability a = provider.availability();
        assertFalse(a.available());
        assertTrue(a.reason().contains("no RDMA devices") && a.reason().contains("ENOSYS"), a.reason());
        ProviderUnavailableException e = assertThrows(ProviderUnavailableException.class,
                () -> provider.open(Map.of(), 1));
        assertTrue(e.getMessage().contains("ENOSYS"), e.getMessage());
    }
}
