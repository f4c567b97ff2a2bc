package dev.transferengine.api.topology;

/** Why the NICs of a {@link TopologyGroup} were chosen for it. */
public enum NicMatch {
    /** They sit behind the same PCIe switch as the group's GPU (a bridge below the root port in common). */
    PCIE_SWITCH,
    /** None shares a switch with the GPU; these are on its NUMA node (or the group is host-only, one per node). */
    NUMA_NODE,
    /**
     * No NIC is known to be near: a GPU group without NICs (the engine gives it what the provider lists), or the
     * host-only group of NICs whose NUMA node is unknown.
     */
    NONE
}
