package dev.transferengine.api.topology;

import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The planner's options, on the shared-switch fixture (GPUs 0, 1 on node 0 with CPUs 0-3; 2, 3 on node 1 with 4-7). */
class GroupPlannerTest {
    @TempDir
    Path dir;
    private Topology topology;

    @BeforeEach
    void discover() throws IOException {
        topology = Topology.discover(SysfsFixture.build("shared-switch", dir));
    }

    private static List<Integer> pins(List<GroupSpec> specs) {
        return specs.stream().map(GroupSpec::pinCpu).toList();
    }

    @Test
    void reservedCpusAreNeverPinnedAndReplaceTheDefault() {
        assertEquals(List.of(2, 1, 5, 4), pins(GroupPlanner.defaults().reservedCpus(3, 7, 6).plan(topology)));
        assertEquals(List.of(3, 2, 7, 6), pins(GroupPlanner.defaults().reservedCpus().plan(topology)));
    }

    @Test
    void aNodeWithoutFreeCpusLeavesTheWorkerUnpinnedUnlessSharingIsAllowed() {
        GroupPlanner tight = GroupPlanner.defaults().reservedCpus(0, 1, 2, 4, 5, 6);
        assertEquals(List.of(3, -1, 7, -1), pins(tight.plan(topology)));
        assertEquals(List.of(3, 3, 7, 7), pins(tight.distinctCpus(false).plan(topology)));
    }

    @Test
    void cudaOrdinalsCanBeMappedAndGpusLeftOut() {
        // As under CUDA_VISIBLE_DEVICES=3,2: PCI GPU 3 is ordinal 0, GPU 2 ordinal 1, GPUs 0 and 1 invisible.
        List<GroupSpec> specs = GroupPlanner.defaults()
                .cudaOrdinals(g -> g.index() >= 2 ? 3 - g.index() : -1).plan(topology);
        assertEquals(List.of(GroupSpec.ofNics(1).withCudaDevice(0).withPinnedCpu(6),
                GroupSpec.ofDomains("mlx5_2").withCudaDevice(1).withPinnedCpu(7)), specs);
    }

    @Test
    void cudaVisibleDevicesSelectsAndRenumbersGpusLikeCuda() {
        // GPU 3 (no NIC) becomes ordinal 0, GPU 1 (mlx5_1) ordinal 1; groups go by ordinal.
        GroupPlanner visible31 = GroupPlanner.defaults().cudaVisibleDevices("3,1");
        assertEquals(List.of("cuda 0 []", "cuda 1 [mlx5_1]"), groups(visible31));
        assertEquals(List.of(3, 1), visible31.planGroups(topology).stream().map(p -> p.source().gpu().index()).toList());
        assertEquals(List.of("cuda 0 [mlx5_0]", "cuda 1 [mlx5_1]", "cuda 2 [mlx5_2]", "cuda 3 []"),
                groups(GroupPlanner.defaults().cudaVisibleDevices(null)));
        assertEquals(List.of(), groups(GroupPlanner.defaults().cudaVisibleDevices("")));
        // CUDA stops at the first index that names no device.
        assertEquals(List.of("cuda 0 [mlx5_0]"), groups(GroupPlanner.defaults().cudaVisibleDevices("0,9,2")));
        assertThrows(InvalidRequestException.class, () -> GroupPlanner.defaults().cudaVisibleDevices("GPU-8f2c1a"));
        assertThrows(InvalidRequestException.class, () -> GroupPlanner.defaults().cudaVisibleDevices("1,1"));
    }

    private List<String> groups(GroupPlanner planner) {
        return planner.plan(topology).stream().map(s -> "cuda " + s.cudaDevice() + " " + s.domainNames()).toList();
    }

    @Test
    void onlyAllowedCpusArePinned() {
        Topology container = topology.withAllowedCpus(List.of(1, 2, 5));
        assertEquals(List.of(2, 1, 5, -1), pins(GroupPlanner.defaults().plan(container)));
    }

    @Test
    void twoGpusOnOneOrdinalAreRejected() {
        GroupPlanner broken = GroupPlanner.defaults().cudaOrdinals(g -> 0);
        assertThrows(InvalidRequestException.class, () -> broken.plan(topology));
        assertThrows(InvalidRequestException.class, () -> GroupPlanner.defaults().reservedCpus(-1));
    }

    @Test
    void theBuilderAddsThisProcesssPlanAsItsGroups() {
        TransferEngine.Builder builder = TransferEngine.builder().groupsFromTopology(topology);
        assertEquals(GroupPlanner.forThisProcess().plan(topology), builder.groups());
        if (System.getenv("CUDA_VISIBLE_DEVICES") == null) {
            assertEquals(GroupPlanner.defaults().plan(topology), builder.groups());
        }
        assertEquals(List.of(1, 1, 1, 1), builder.groups().stream().map(GroupSpec::nics).toList());
    }
}
