package dev.transferengine.api.topology;

/**
 * An NVIDIA GPU found on the PCI bus (vendor {@code 0x10de}, class 3D or VGA controller).
 *
 * @param index    its position in PCI bus order among the GPUs found: the CUDA ordinal under
 *                 {@code CUDA_DEVICE_ORDER=PCI_BUS_ID} with every GPU visible (see {@link GroupPlanner#cudaOrdinals})
 * @param pci      its PCI address and the bridges above it
 * @param deviceId the PCI device id ({@code "0x2330"} is an H100 SXM5)
 * @param numaNode its NUMA node, -1 when unknown
 */
public record Gpu(int index, PciPath pci, String deviceId, int numaNode) {
    /** The PCI address, e.g. {@code "0000:1b:00.0"}. */
    public String pciAddress() {
        return pci.address();
    }
}
