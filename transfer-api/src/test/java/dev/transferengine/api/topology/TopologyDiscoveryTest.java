package dev.transferengine.api.topology;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TopologyDiscoveryTest {
    @TempDir
    Path dir;

    /** This machine's /sys, checked against what the same files say when read directly. */
    @Test
    @EnabledOnOs(OS.LINUX)
    void discoveryOnThisMachinesSysfsIsConsistent() throws IOException {
        Topology t = Topology.discover();

        assertEquals(countNvidiaDisplayDevices(), t.gpus().size());
        Path ib = Path.of("/sys/class/infiniband");
        assertEquals(Files.isDirectory(ib) ? list(ib).size() : 0, t.nics().size());
        Path nodeDir = Path.of("/sys/devices/system/node");
        long nodeDirs = Files.isDirectory(nodeDir)
                ? list(nodeDir).stream().filter(p -> p.getFileName().toString().matches("node\\d+")).count() : 0;
        assertEquals(nodeDirs, t.nodes().size());
        TreeSet<Integer> all = new TreeSet<>();
        t.nodes().forEach(n -> all.addAll(n.cpus()));
        if (nodeDirs > 0) {
            assertEquals(CpuList.parse(Files.readString(Path.of("/sys/devices/system/cpu/online"))), List.copyOf(all));
        }

        Set<RdmaNic> seen = new HashSet<>();
        for (TopologyGroup g : t.groups()) {
            for (RdmaNic nic : g.nics()) {
                assertTrue(seen.add(nic), nic.name() + " is in two groups");
            }
            if (g.numaNode() >= 0) {
                assertFalse(g.cpus().isEmpty(), "group of node " + g.numaNode() + " has no CPUs");
            }
        }
        assertEquals(t.gpus().isEmpty() ? t.groups().size() : t.gpus().size(), t.groups().size());
        // Every worker CPU the plan picks is one this process may use, never CPU 0, and no two workers share one.
        Set<Integer> pinned = new HashSet<>();
        GroupPlanner.defaults().plan(t).stream().filter(s -> s.pinCpu() >= 0)
                .forEach(s -> assertTrue(pinned.add(s.pinCpu())));
        assertFalse(pinned.contains(0));
        assertTrue(t.allowedCpus().containsAll(pinned));
        assertFalse(t.allowedCpus().isEmpty());
        assertTrue(List.copyOf(all).containsAll(t.allowedCpus()) || nodeDirs == 0);
    }

    @Test
    void aMissingRootIsRejectedAndAnEmptyTreeHasNothing() {
        assertThrows(InvalidRequestException.class, () -> Topology.discover(dir.resolve("absent")));
        Topology empty = Topology.discover(dir);
        assertEquals(List.of(), empty.nodes());
        assertEquals(List.of(), empty.groups());
    }

    @Test
    void aNicOnANonPciDeviceBelongsToThePciFunctionAboveIt() throws IOException {
        Path virtio = dir.resolve("devices/pci0000:00/0000:00:03.0/virtio0");
        Files.createDirectories(virtio);
        Files.writeString(virtio.getParent().resolve("numa_node"), "1\n");
        Path ib = dir.resolve("devices/virtual/infiniband/rxe0");
        Files.createDirectories(ib);
        Files.createSymbolicLink(ib.resolve("device"), ib.relativize(virtio));
        Files.createDirectories(dir.resolve("class/infiniband"));
        Files.createSymbolicLink(dir.resolve("class/infiniband/rxe0"), dir.resolve("class/infiniband").relativize(ib));

        RdmaNic rxe = Topology.discover(dir).nics().getFirst();
        assertEquals("0000:00:03.0", rxe.pci().address());
        assertEquals(1, rxe.numaNode());
        assertEquals(NicKind.OTHER, rxe.kind());
        assertEquals("rxe0", rxe.domainName());
    }

    @Test
    void aMalformedFileFailsWithItsName() throws IOException {
        Path cpulist = dir.resolve("devices/system/node/node0/cpulist");
        Files.createDirectories(cpulist.getParent());
        Files.writeString(cpulist, "0-x\n");
        TransferException e = assertThrows(TransferException.class, () -> Topology.discover(dir));
        assertEquals(ErrorCategory.UNAVAILABLE, e.category());
        assertTrue(e.getMessage().contains(cpulist.toString()), e.getMessage());
    }

    private static long countNvidiaDisplayDevices() throws IOException {
        long n = 0;
        for (Path dev : list(Path.of("/sys/bus/pci/devices"))) {
            String cls = Files.readString(dev.resolve("class")).strip();
            if (Files.readString(dev.resolve("vendor")).strip().equals("0x10de") && (cls.startsWith("0x0300") || cls.startsWith("0x0302"))) {
                n++;
            }
        }
        return n;
    }

    private static List<Path> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}
