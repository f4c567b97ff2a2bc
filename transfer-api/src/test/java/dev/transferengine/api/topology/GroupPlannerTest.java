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
        assertEquals(List.of(GroupSpec.ofDomains("mlx5_2").withCudaDevice(1).withPinnedCpu(7),
                GroupSpec.ofNics(1).withCudaDevice(0).withPinnedCpu(6)), specs);
    }

    @Test
    void twoGpusOnOneOrdinalAreRejected() {
        GroupPlanner broken = GroupPlanner.defaults().cudaOrdinals(g -> 0);
        assertThrows(InvalidRequestException.class, () -> broken.plan(topology));
        assertThrows(InvalidRequestException.class, () -> GroupPlanner.defaults().reservedCpus(-1));
    }

    @Test
    void theBuilderAddsTheDefaultPlanAsItsGroups() {
        TransferEngine.Builder builder = TransferEngine.builder().groupsFromTopology(topology);
        assertEquals(GroupPlanner.defaults().plan(topology), builder.config().groups());
        assertEquals(List.of(1, 1, 1, 1), builder.config().groups().stream().map(GroupSpec::nics).toList());
    }
}
