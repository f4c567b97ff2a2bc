package dev.transferengine.api.topology;

/**
 * An RDMA device listed in {@code /sys/class/infiniband}.
 *
 * @param name     the device name ({@code "mlx5_0"}, {@code "rdmap79s0"}, {@code "rxe0"})
 * @param kind     its family
 * @param pci      its PCI path, or null for a virtual device (Soft-RoCE's {@code rxe0})
 * @param driver   the PCI driver bound to it ({@code "efa"}, {@code "mlx5_core"}), empty when unknown
 * @param numaNode its NUMA node, -1 when unknown
 */
public record RdmaNic(String name, NicKind kind, PciPath pci, String driver, int numaNode) {
    /**
     * The name the provider that drives this device lists it under, which is what
     * {@link dev.transferengine.api.GroupSpec#ofDomains} takes: libfabric's {@code efa} provider names an EFA
     * device's RDM domain {@code <device>-rdm}; the verbs provider uses the device name.
     */
    public String domainName() {
        return kind == NicKind.EFA ? name + "-rdm" : name;
    }

    /** Whether the device has a PCI function (virtual devices do not). */
    public boolean onPci() {
        return pci != null;
    }
}
