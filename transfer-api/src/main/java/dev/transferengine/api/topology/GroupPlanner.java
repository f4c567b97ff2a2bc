package dev.transferengine.api.topology;

import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.InvalidRequestException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * Turns a {@link Topology}'s groups into engine {@link GroupSpec}s: one per GPU with its NICs by domain name
 * ({@link RdmaNic#domainName()}), its CUDA ordinal, and its worker pinned to a core of the GPU's NUMA node. A
 * group without NICs names none (the engine then takes what the provider lists); a topology without GPUs gives its
 * host-only groups, and one without GPUs and NICs gives no groups (the builder's default applies). Immutable;
 * the {@code with}-style methods return a new planner.
 *
 * <p><b>Worker CPUs.</b> Each worker gets a physical core of its node (the lowest logical CPU of the core), taken
 * from the highest-numbered down, so that the low cores where the kernel, interrupts and applications usually run
 * stay free; then hyperthreads the same way. Only {@linkplain Topology#allowedCpus() allowed} CPUs are taken,
 * reserved ones (default: CPU 0) never, and by default no two workers share a CPU: a group whose node has no CPU
 * left is not pinned. Groups of an unknown node are not pinned.
 *
 * <p><b>CUDA ordinals.</b> By default GPU {@code i} in PCI bus order is CUDA ordinal {@code i}: what CUDA uses under
 * {@code CUDA_DEVICE_ORDER=PCI_BUS_ID} with all GPUs visible. CUDA's default order is fastest first, which is the
 * same order on machines of identical GPUs in practice, but not guaranteed. {@link #cudaVisibleDevices} applies a
 * {@code CUDA_VISIBLE_DEVICES} value ({@link #forThisProcess()} the process's own); on a mixed machine, or with GPUs
 * named by UUID, pass {@link #cudaOrdinals} a mapping (for example from each ordinal's {@code cuDeviceGetPCIBusId}).
 */
public final class GroupPlanner {
    private final ToIntFunction<Gpu> cudaOrdinal;
    private final Set<Integer> reservedCpus;
    private final boolean distinctCpus;

    private GroupPlanner(ToIntFunction<Gpu> cudaOrdinal, Set<Integer> reservedCpus, boolean distinctCpus) {
        this.cudaOrdinal = cudaOrdinal;
        this.reservedCpus = Set.copyOf(reservedCpus);
        this.distinctCpus = distinctCpus;
    }

    /** PCI bus order as CUDA ordinals, CPU 0 reserved, one CPU per worker. */
    public static GroupPlanner defaults() {
        return new GroupPlanner(Gpu::index, Set.of(0), true);
    }

    /**
     * {@link #defaults()} narrowed to the GPUs this process's {@code CUDA_VISIBLE_DEVICES} names
     * ({@link #cudaVisibleDevices}): what {@link dev.transferengine.api.TransferEngine.Builder#groupsFromTopology}
     * uses.
     */
    public static GroupPlanner forThisProcess() {
        return defaults().cudaVisibleDevices(System.getenv("CUDA_VISIBLE_DEVICES"));
    }

    /**
     * The CUDA ordinals a {@code CUDA_VISIBLE_DEVICES} value gives: {@code "3,2"} makes GPU 3 (in PCI bus order)
     * ordinal 0, GPU 2 ordinal 1, and leaves the others out. As in CUDA, the list ends at the first index that
     * names no GPU; an empty value hides every GPU, and null (the variable unset) shows all of them. The indices
     * are taken to be in PCI bus order (CUDA's order under {@code CUDA_DEVICE_ORDER=PCI_BUS_ID}, and in practice
     * its default order on machines of identical GPUs).
     *
     * @throws InvalidRequestException for GPU UUIDs or MIG names (map those with {@link #cudaOrdinals}) and
     *                                 for an index listed twice
     */
    public GroupPlanner cudaVisibleDevices(String value) {
        if (value == null) {
            return cudaOrdinals(Gpu::index);
        }
        List<Integer> visible = new ArrayList<>();
        for (String entry : value.split(",")) {
            String e = entry.strip();
            if (e.isEmpty()) {
                break;
            }
            if (!e.chars().allMatch(Character::isDigit) || e.length() > 4) {
                throw new InvalidRequestException("CUDA_VISIBLE_DEVICES entry '" + e + "' is not a GPU index: "
                        + "map GPUs named by UUID or MIG instance with GroupPlanner.cudaOrdinals");
            }
            int index = Integer.parseInt(e);
            if (visible.contains(index)) {
                throw new InvalidRequestException("CUDA_VISIBLE_DEVICES lists GPU " + index + " twice: '" + value + "'");
            }
            visible.add(index);
        }
        return cudaOrdinals(new VisibleDevices(visible));
    }

    /** A {@code CUDA_VISIBLE_DEVICES} list; {@link #plan} cuts it at the first index past the topology's GPUs. */
    private record VisibleDevices(List<Integer> indices) implements ToIntFunction<Gpu> {
        VisibleDevices within(int gpus) {
            int end = 0;
            while (end < indices.size() && indices.get(end) < gpus) {
                end++;
            }
            return new VisibleDevices(indices.subList(0, end));
        }

        @Override
        public int applyAsInt(Gpu gpu) {
            return indices.indexOf(gpu.index());
        }
    }

    /**
     * How GPUs map to CUDA ordinals; a negative result leaves the GPU out (not visible to this process, e.g.
     * under {@code CUDA_VISIBLE_DEVICES}).
     */
    public GroupPlanner cudaOrdinals(ToIntFunction<Gpu> ordinalOfGpu) {
        return new GroupPlanner(Objects.requireNonNull(ordinalOfGpu, "ordinalOfGpu"), reservedCpus, distinctCpus);
    }

    /** CPUs no worker is pinned to (the application's own, say); replaces the default, which is CPU 0. */
    public GroupPlanner reservedCpus(int... cpus) {
        Set<Integer> set = new HashSet<>();
        for (int cpu : cpus) {
            if (cpu < 0) {
                throw new InvalidRequestException("a CPU number must be >= 0, got " + cpu);
            }
            set.add(cpu);
        }
        return new GroupPlanner(cudaOrdinal, set, distinctCpus);
    }

    /** Whether two workers may never share a CPU (default {@code true}); {@code false} reuses CPUs when a node runs short. */
    public GroupPlanner distinctCpus(boolean distinct) {
        return new GroupPlanner(cudaOrdinal, reservedCpus, distinct);
    }

    /**
     * The groups for {@code topology}: GPU groups by CUDA ordinal, host groups by NUMA node.
     *
     * @throws InvalidRequestException when the ordinal mapping gives two GPUs the same ordinal
     */
    public List<GroupSpec> plan(Topology topology) {
        return planGroups(topology).stream().map(PlannedGroup::spec).toList();
    }

    /**
     * {@link #plan} with each engine group's topology group, to show where it came from.
     *
     * @throws InvalidRequestException when the ordinal mapping gives two GPUs the same ordinal
     */
    public List<PlannedGroup> planGroups(Topology topology) {
        List<PlannedGroup> planned = new ArrayList<>();
        Set<Integer> ordinals = new HashSet<>();
        Map<Integer, Integer> pinnedPerNode = new HashMap<>();
        ToIntFunction<Gpu> ordinalOf = cudaOrdinal instanceof VisibleDevices v ? v.within(topology.gpus().size()) : cudaOrdinal;
        for (TopologyGroup group : topology.groups()) {
            int ordinal = -1;
            if (group.hasGpu()) {
                ordinal = ordinalOf.applyAsInt(group.gpu());
                if (ordinal < 0) {
                    continue;
                }
                if (!ordinals.add(ordinal)) {
                    throw new InvalidRequestException("two GPUs map to CUDA ordinal " + ordinal);
                }
            }
            GroupSpec spec = group.nics().isEmpty() ? GroupSpec.ofNics(1)
                    : GroupSpec.ofDomains(group.domainNames().toArray(String[]::new));
            if (ordinal >= 0) {
                spec = spec.withCudaDevice(ordinal);
            }
            int k = pinnedPerNode.merge(group.numaNode(), 1, Integer::sum) - 1;
            int cpu = workerCpu(node(topology, group.numaNode()), topology.allowedCpus(), k);
            planned.add(new PlannedGroup(group, cpu < 0 ? spec : spec.withPinnedCpu(cpu)));
        }
        // Group g is CUDA ordinal g where the ordinals are 0..n-1 (they are unless a mapping skips some).
        planned.sort(Comparator.comparingInt(p -> p.spec().cudaDevice()));
        return planned;
    }

    private static NumaNode node(Topology topology, int id) {
        return topology.nodes().stream().filter(n -> n.id() == id).findFirst().orElse(null);
    }

    /** The node's {@code k}-th CPU in pick order (cores from the top down, then the other hyperthreads); -1 when none. */
    private int workerCpu(NumaNode node, List<Integer> allowed, int k) {
        if (node == null) {
            return -1;
        }
        List<Integer> candidates = new ArrayList<>(node.cores().reversed());
        node.cpus().reversed().stream().filter(c -> !node.cores().contains(c)).forEach(candidates::add);
        candidates.removeAll(reservedCpus);
        candidates.retainAll(allowed);
        if (candidates.isEmpty() || (distinctCpus && k >= candidates.size())) {
            return -1;
        }
        return candidates.get(k % candidates.size());
    }
}
