package dev.transferengine.api.topology;

import dev.transferengine.api.GroupSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Discovery and grouping on sysfs trees reproducing real machines (fixtures in {@code resources/topology}). */
class TopologyFixturesTest {
    @TempDir
    Path dir;

    private Topology discover(String fixture) throws IOException {
        return Topology.discover(SysfsFixture.build(fixture, dir));
    }

    @Test
    void p5HasFourEfaPerGpuBehindItsSwitchAndPinsEachWorkerOnItsNode() throws IOException {
        Topology t = discover("p5.48xlarge");
        List<Integer> node0 = CpuList.parse("0-47,96-143");
        List<Integer> node1 = CpuList.parse("48-95,144-191");
        assertEquals(List.of(node0, node1), t.nodes().stream().map(NumaNode::cpus).toList());
        assertEquals(CpuList.parse("0-47"), t.nodes().get(0).cores());
        assertEquals(List.of("0000:53:00.0", "0000:64:00.0", "0000:75:00.0", "0000:86:00.0",
                "0000:97:00.0", "0000:a8:00.0", "0000:b9:00.0", "0000:ca:00.0"),
                t.gpus().stream().map(Gpu::pciAddress).toList());
        assertEquals(32, t.nics().size());
        assertTrue(t.nics().stream().allMatch(n -> n.kind() == NicKind.EFA && n.driver().equals("efa")));

        List<List<String>> expectedNics = List.of(
                List.of("rdmap79s0", "rdmap80s0", "rdmap81s0", "rdmap82s0"),
                List.of("rdmap96s0", "rdmap97s0", "rdmap98s0", "rdmap99s0"),
                List.of("rdmap113s0", "rdmap114s0", "rdmap115s0", "rdmap116s0"),
                List.of("rdmap130s0", "rdmap131s0", "rdmap132s0", "rdmap133s0"),
                List.of("rdmap147s0", "rdmap148s0", "rdmap149s0", "rdmap150s0"),
                List.of("rdmap164s0", "rdmap165s0", "rdmap166s0", "rdmap167s0"),
                List.of("rdmap181s0", "rdmap182s0", "rdmap183s0", "rdmap184s0"),
                List.of("rdmap198s0", "rdmap199s0", "rdmap200s0", "rdmap201s0"));
        assertEquals(8, t.groups().size());
        for (int g = 0; g < 8; g++) {
            TopologyGroup group = t.groups().get(g);
            assertEquals(g, group.gpu().index());
            assertEquals(expectedNics.get(g), group.nics().stream().map(RdmaNic::name).toList(), "GPU " + g);
            assertEquals(NicMatch.PCIE_SWITCH, group.match());
            assertEquals(g < 4 ? 0 : 1, group.numaNode());
            assertEquals(g < 4 ? node0 : node1, group.cpus());
        }
        assertEquals(List.of(), t.unassignedNics());

        List<GroupSpec> specs = GroupPlanner.defaults().plan(t);
        assertEquals(GroupSpec.ofDomains("rdmap79s0-rdm", "rdmap80s0-rdm", "rdmap81s0-rdm", "rdmap82s0-rdm")
                .withCudaDevice(0).withPinnedCpu(47), specs.get(0));
        assertEquals(List.of(47, 46, 45, 44, 95, 94, 93, 92), specs.stream().map(GroupSpec::pinCpu).toList());
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), specs.stream().map(GroupSpec::cudaDevice).toList());
        assertTrue(specs.stream().allMatch(s -> s.nics() == 4));
    }

    @Test
    void dgxH100GivesEachGpuItsComputeNicAndLeavesTheStorageNicsOut() throws IOException {
        Topology t = discover("dgx-h100");
        assertEquals(8, t.gpus().size(), "NVSwitches (class 0x0680) are not GPUs");
        assertEquals(12, t.nics().size());
        assertTrue(t.nics().stream().allMatch(n -> n.kind() == NicKind.CONNECTX));
        List<String> expected = List.of("mlx5_0", "mlx5_3", "mlx5_4", "mlx5_5", "mlx5_6", "mlx5_9", "mlx5_10", "mlx5_11");
        List<Integer> node0 = CpuList.parse("0-55,112-167");
        List<Integer> node1 = CpuList.parse("56-111,168-223");
        for (int g = 0; g < 8; g++) {
            TopologyGroup group = t.groups().get(g);
            assertEquals(List.of(expected.get(g)), group.domainNames(), "GPU " + g);
            assertEquals(NicMatch.PCIE_SWITCH, group.match());
            assertEquals(g < 4 ? node0 : node1, group.cpus());
        }
        assertEquals(List.of("mlx5_1", "mlx5_2", "mlx5_7", "mlx5_8"),
                t.unassignedNics().stream().map(RdmaNic::name).toList());
        assertEquals("0000:15:01.0 > 0000:16:00.0 > 0000:17:01.0 > 0000:19:00.0 > 0000:1a:00.0 > 0000:1b:00.0",
                t.gpus().getFirst().pci().toString());

        List<GroupSpec> specs = GroupPlanner.defaults().plan(t);
        assertEquals(GroupSpec.ofDomains("mlx5_0").withCudaDevice(0).withPinnedCpu(55), specs.getFirst());
        assertEquals(GroupSpec.ofDomains("mlx5_11").withCudaDevice(7).withPinnedCpu(108), specs.getLast());
        assertEquals(List.of(55, 54, 53, 52, 111, 110, 109, 108), specs.stream().map(GroupSpec::pinCpu).toList());
    }

    @Test
    void gpuWithoutRdmaNicIsAGroupOfItsOwnOnTheOnlyNode() throws IOException {
        Topology t = discover("h200-no-rdma");
        assertEquals(1, t.gpus().size());
        Gpu gpu = t.gpus().getFirst();
        assertEquals("0000:00:05.0", gpu.pciAddress());
        assertEquals("0x2335", gpu.deviceId());
        assertEquals(0, gpu.numaNode(), "numa_node -1 on a one-node machine is that node");
        assertEquals(List.of(), gpu.pci().bridges());
        assertEquals(List.of(), t.nics());
        TopologyGroup group = t.groups().getFirst();
        assertEquals(List.of(), group.nics());
        assertEquals(NicMatch.NONE, group.match());
        assertEquals(CpuList.parse("0-15"), group.cpus());
        assertEquals(List.of(GroupSpec.ofNics(1).withCudaDevice(0).withPinnedCpu(15)), GroupPlanner.defaults().plan(t));
    }

    @Test
    void cpuOnlyBoxHasNoGroupsSoTheBuilderDefaultApplies() throws IOException {
        Topology t = discover("cpu-only-ci");
        assertEquals(List.of(), t.gpus());
        assertEquals(List.of(), t.nics());
        assertEquals(1, t.nodes().size());
        assertEquals(List.of(0, 1), t.nodes().getFirst().cpus());
        assertEquals(List.of(), t.groups());
        assertEquals(List.of(), GroupPlanner.defaults().plan(t));
    }

    @Test
    void gpuLessHostGetsOneHostGroupPerNodeWithNicsAndVirtualNicsLast() throws IOException {
        Topology t = discover("host-two-sockets");
        assertEquals(List.of("mlx5_0", "mlx5_1", "rxe0"), t.nics().stream().map(RdmaNic::name).toList());
        RdmaNic rxe = t.nics().getLast();
        assertFalse(rxe.onPci());
        assertEquals(NicKind.OTHER, rxe.kind());
        assertEquals(-1, rxe.numaNode(), "a virtual NIC on a two-node machine has no node");

        List<TopologyGroup> groups = t.groups();
        assertEquals(3, groups.size());
        assertNull(groups.get(0).gpu());
        assertEquals(List.of("mlx5_0"), groups.get(0).domainNames());
        assertEquals(CpuList.parse("0-7,16-23"), groups.get(0).cpus());
        assertEquals(List.of("mlx5_1"), groups.get(1).domainNames());
        assertEquals(CpuList.parse("8-15,24-31"), groups.get(1).cpus());
        assertEquals(List.of("rxe0"), groups.get(2).domainNames());
        assertEquals(NicMatch.NONE, groups.get(2).match());
        assertEquals(List.of(), groups.get(2).cpus());
        assertEquals(List.of(GroupSpec.ofDomains("mlx5_0").withPinnedCpu(7), GroupSpec.ofDomains("mlx5_1").withPinnedCpu(15),
                GroupSpec.ofDomains("rxe0")), GroupPlanner.defaults().plan(t));
    }

    @Test
    void nicsSharedBySeveralGpusAreSplitAndGpusWithoutSwitchFallBackToTheirNode() throws IOException {
        Topology t = discover("shared-switch");
        assertEquals(4, t.gpus().size(), "VGA class 0x0300 counts as a GPU too");
        List<TopologyGroup> g = t.groups();
        assertEquals(List.of("mlx5_0"), g.get(0).domainNames());
        assertEquals(NicMatch.PCIE_SWITCH, g.get(0).match());
        assertEquals(List.of("mlx5_1"), g.get(1).domainNames());
        assertEquals(NicMatch.PCIE_SWITCH, g.get(1).match());
        assertEquals(List.of("mlx5_2"), g.get(2).domainNames());
        assertEquals(NicMatch.NUMA_NODE, g.get(2).match());
        assertEquals(List.of(), g.get(3).nics());
        assertEquals(NicMatch.NONE, g.get(3).match());
        assertEquals(List.of("mlx5_3"), t.unassignedNics().stream().map(RdmaNic::name).toList());
        assertEquals(List.of(3, 2, 7, 6), GroupPlanner.defaults().plan(t).stream().map(GroupSpec::pinCpu).toList());
    }
}
