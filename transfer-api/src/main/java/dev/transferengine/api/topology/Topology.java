package dev.transferengine.api.topology;

import dev.transferengine.api.InvalidRequestException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The machine's GPUs, RDMA NICs and NUMA nodes as sysfs describes them, and each GPU grouped with the NICs and
 * CPUs closest to it: the NICs behind the same PCIe switch, else NICs of the same NUMA node, and the CPUs of that
 * node. On a machine without GPUs, one host-only group per NUMA node that has NICs. Immutable; thread-safe.
 *
 * <p>Pure Java: discovery reads files and resolves symbolic links under the sysfs root, and loads nothing
 * native. {@link GroupPlanner} turns the groups into engine groups
 * ({@link dev.transferengine.api.TransferEngine.Builder#groupsFromTopology}).
 */
public final class Topology {
    private final List<NumaNode> nodes;
    private final List<Gpu> gpus;
    private final List<RdmaNic> nics;
    private final List<TopologyGroup> groups;
    private final List<Integer> allowedCpus;

    private Topology(List<NumaNode> nodes, List<Gpu> gpus, List<RdmaNic> nics, List<TopologyGroup> groups,
                     Collection<Integer> allowedCpus) {
        this.nodes = List.copyOf(nodes);
        this.gpus = List.copyOf(gpus);
        this.nics = List.copyOf(nics);
        this.groups = List.copyOf(groups);
        this.allowedCpus = List.copyOf(new TreeSet<>(allowedCpus));
    }

    /**
     * Discovers this machine's topology from {@code /sys}, with the CPUs this process may run on
     * ({@code Cpus_allowed_list} in {@code /proc/self/status}: a container's CPU set, {@code taskset}) as
     * {@link #allowedCpus()}.
     */
    public static Topology discover() {
        Topology t = discover(Path.of("/sys"));
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return t.withAllowedCpus(CpuList.parse(line.substring(line.indexOf(':') + 1)));
                }
            }
        } catch (IOException | InvalidRequestException e) {
            // No procfs, or a format this code does not know: every CPU counts as allowed.
        }
        return t;
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
        List<Gpu> gpus = scan.gpus(nodes);
        List<RdmaNic> nics = scan.nics(nodes);
        List<Integer> cpus = nodes.stream().flatMap(n -> n.cpus().stream()).toList();
        return new Topology(nodes, gpus, nics, NicAssignment.groups(gpus, nics, nodes), cpus);
    }

    /**
     * This topology with only {@code cpus} allowed for workers (the planner pins nothing else), e.g. the CPU set
     * a container grants when discovering from a sysfs tree of another path.
     */
    public Topology withAllowedCpus(Collection<Integer> cpus) {
        return new Topology(nodes, gpus, nics, groups, cpus);
    }

    /** The CPUs workers may be pinned to: this process's allowed CPUs for {@link #discover()}, else every CPU. */
    public List<Integer> allowedCpus() {
        return allowedCpus;
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

    @Override
    public String toString() {
        return "Topology[" + gpus.size() + " GPUs, " + nics.size() + " RDMA NICs, " + nodes.size() + " NUMA nodes, "
                + groups.size() + " groups]";
    }
}
