package dev.transferengine.api.topology;

import java.util.List;

/**
 * One GPU (or, on a machine without GPUs, one NUMA node) with the NICs and CPUs closest to it.
 *
 * @param gpu      the GPU, or null for a host-only group
 * @param numaNode the NUMA node of the GPU (of the NICs for a host-only group), -1 when unknown
 * @param nics     the NICs closest to it, in PCI address order (virtual devices last, by name)
 * @param match    how the NICs were chosen
 * @param cpus     the logical CPUs of its NUMA node, ascending; empty when the node is unknown
 */
public record TopologyGroup(Gpu gpu, int numaNode, List<RdmaNic> nics, NicMatch match, List<Integer> cpus) {
    public TopologyGroup {
        nics = List.copyOf(nics);
        cpus = List.copyOf(cpus);
    }

    /** Whether the group has a GPU. */
    public boolean hasGpu() {
        return gpu != null;
    }

    /** The NICs' provider domain names ({@link RdmaNic#domainName()}), in NIC order. */
    public List<String> domainNames() {
        return nics.stream().map(RdmaNic::domainName).toList();
    }
}
