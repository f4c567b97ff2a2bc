package dev.transferengine.api.topology;

import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.InvalidRequestException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The machine's GPUs, RDMA NICs and NUMA nodes as sysfs describes them, and each GPU grouped with the NICs and
 * CPUs closest to it: the NICs behind the same PCIe switch, else NICs of the same NUMA node, and the CPUs of that
 * node. On a machine without GPUs, one host-only group per NUMA node that has NICs. Immutable; thread-safe.
 *
 * <p>Pure Java: discovery reads files and resolves symbolic links under the sysfs root, and loads nothing
 * native. {@link #groupSpecs()} turns the groups into engine groups
 * ({@link dev.transferengine.api.TransferEngine.Builder#groupsFromTopology}).
 */
public final class Topology {
    private final List<NumaNode> nodes;
    private final List<Gpu> gpus;
    private final List<RdmaNic> nics;
    private final List<TopologyGroup> groups;

    private Topology(List<NumaNode> nodes, List<Gpu> gpus, List<RdmaNic> nics) {
        this.nodes = List.copyOf(nodes);
        this.gpus = List.copyOf(gpus);
        this.nics = List.copyOf(nics);
        this.groups = List.copyOf(NicAssignment.groups(gpus, nics, nodes));
    }

    /** Discovers this machine's topology from {@code /sys}. */
    public static Topology discover() {
        return discover(Path.of("/sys"));
    }

    /**
     * Discovers the topology described by the sysfs tree at {@code sysfsRoot} (a directory with the layout of
     * {@code /sys}: {@code bus/pci/devices}, {@code class/infiniband}, {@code devices/system/node}). Parts that
     * are missing are empty: a machine without RDMA NICs has no {@code class/infiniband}.
     *
     * @throws InvalidRequestException when {@code sysfsRoot} is not a directory
     * @throws dev.transferengine.api.TransferException ({@code UNAVAILABLE}) when a file holds something the
     *                                                  kernel does not write there; the message names the file
     */
    public static Topology discover(Path sysfsRoot) {
        Objects.requireNonNull(sysfsRoot, "sysfsRoot");
        if (!Files.isDirectory(sysfsRoot)) {
            throw new InvalidRequestException("no sysfs tree at " + sysfsRoot);
        }
        SysfsScan scan = new SysfsScan(sysfsRoot);
        List<NumaNode> nodes = scan.nodes();
        return new Topology(nodes, scan.gpus(nodes), scan.nics(nodes));
    }

    /** The NUMA nodes, by id; empty where the kernel exposes none. */
    public List<NumaNode> nodes() {
        return nodes;
    }

    /** The NVIDIA GPUs, in PCI bus order. */
    public List<Gpu> gpus() {
        return gpus;
    }

    /** Every RDMA device, in PCI address order, virtual ones last. */
    public List<RdmaNic> nics() {
        return nics;
    }

    /** One group per GPU in GPU order; without GPUs, one per NUMA node with NICs (nodes unknown last). */
    public List<TopologyGroup> groups() {
        return groups;
    }

    /** The NICs no group took (NICs that are near no GPU while every GPU of their node has closer ones). */
    public List<RdmaNic> unassignedNics() {
        Set<RdmaNic> taken = new HashSet<>();
        groups.forEach(g -> taken.addAll(g.nics()));
        return nics.stream().filter(n -> !taken.contains(n)).toList();
    }

    /** The engine groups {@link GroupPlanner#defaults()} makes of this topology. */
    public List<GroupSpec> groupSpecs() {
        return GroupPlanner.defaults().plan(this);
    }

    @Override
    public String toString() {
        return "Topology[" + gpus.size() + " GPUs, " + nics.size() + " RDMA NICs, " + nodes.size() + " NUMA nodes, "
                + groups.size() + " groups]";
    }
}
