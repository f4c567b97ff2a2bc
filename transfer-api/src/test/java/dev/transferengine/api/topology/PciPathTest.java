package dev.transferengine.api.topology;

import dev.transferengine.api.InvalidRequestException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PciPathTest {
    private static final PciPath GPU = PciPath.of(Path.of(
            "/sys/devices/pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:01.0/0000:19:00.0/0000:1b:00.0"));
    private static final PciPath NIC = PciPath.of(Path.of("/sys/devices/pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:00.0/0000:18:00.0"));

    @Test
    void theBridgesAreTheAddressesBetweenTheHostBridgeAndTheDevice() {
        assertEquals("0000:1b:00.0", GPU.address());
        assertEquals(List.of("0000:15:01.0", "0000:16:00.0", "0000:17:01.0", "0000:19:00.0"), GPU.bridges());
        PciPath onRootBus = PciPath.of(Path.of("/sys/devices/pci0000:00/0000:00:05.0"));
        assertEquals(List.of(), onRootBus.bridges());
    }

    @Test
    void sharedBridgesCountsTheCommonPrefixFromTheRootPort() {
        assertEquals(2, GPU.sharedBridges(NIC), "root port and switch upstream port");
        assertEquals(2, NIC.sharedBridges(GPU));
        assertEquals(4, GPU.sharedBridges(GPU));
        PciPath otherRootPort = PciPath.of(Path.of("/sys/devices/pci0000:15/0000:15:02.0/0000:20:00.0"));
        assertEquals(0, GPU.sharedBridges(otherRootPort));
    }

    @Test
    void rejectsPathsAndAddressesThatAreNotPci() {
        assertThrows(InvalidRequestException.class, () -> PciPath.of(Path.of("/sys/devices/virtual/infiniband/rxe0")));
        assertThrows(InvalidRequestException.class, () -> new PciPath("0000:1B:00.0", List.of()));
        assertThrows(InvalidRequestException.class, () -> new PciPath("0000:1b:00.0", List.of("pci0000:15")));
    }
}
