package dev.transferengine.api.topology;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Groups each GPU with the NICs closest to it. A NIC belongs to the GPU with which it shares the deepest bridge
 * below the root port (the same PCIe switch). A GPU that got no NIC that way takes the NICs of its NUMA node that
 * no GPU took, shared out among the node's GPUs without a switch NIC. Where several GPUs are equally close to a
 * set of NICs, the NICs are split among them in contiguous runs, in PCI order (8 NICs and 2 GPUs: 4 and 4).
 * NICs left over (a DGX's storage NICs) belong to no group. Without GPUs, every NUMA node with NICs is a
 * host-only group.
 */
final class NicAssignment {
    /** Bridges in common from which two devices are behind the same switch: the root port and one more. */
    private static final int SAME_SWITCH = 2;

    private NicAssignment() {
    }

    static List<TopologyGroup> groups(List<Gpu> gpus, List<RdmaNic> nics, List<NumaNode> nodes) {
        return gpus.isEmpty() ? hostGroups(nics, nodes) : gpuGroups(gpus, nics, nodes);
    }

    private static List<TopologyGroup> hostGroups(List<RdmaNic> nics, List<NumaNode> nodes) {
        Map<Integer, List<RdmaNic>> byNode = new TreeMap<>();
        for (RdmaNic nic : nics) {
            byNode.computeIfAbsent(nic.numaNode(), k -> new ArrayList<>()).add(nic);
        }
        List<TopologyGroup> groups = new ArrayList<>();
        byNode.forEach((node, mine) -> {
            if (node >= 0) {
                groups.add(new TopologyGroup(null, node, mine, NicMatch.NUMA_NODE, cpusOf(node, nodes)));
            }
        });
        List<RdmaNic> unknown = byNode.get(-1);
        if (unknown != null) {
            groups.add(new TopologyGroup(null, -1, unknown, NicMatch.NONE, List.of()));
        }
        return groups;
    }

    private static List<TopologyGroup> gpuGroups(List<Gpu> gpus, List<RdmaNic> nics, List<NumaNode> nodes) {
        Map<Gpu, List<RdmaNic>> bySwitch = new HashMap<>();
        List<RdmaNic> rest = new ArrayList<>();
        Map<List<Gpu>, List<RdmaNic>> byClosest = new LinkedHashMap<>();
        for (RdmaNic nic : nics) {
            List<Gpu> closest = closestGpus(nic, gpus);
            if (closest.isEmpty()) {
                rest.add(nic);
            } else {
                byClosest.computeIfAbsent(closest, k -> new ArrayList<>()).add(nic);
            }
        }
        byClosest.forEach((closest, mine) -> split(mine, closest, bySwitch));

        Map<Gpu, List<RdmaNic>> byNode = new HashMap<>();
        Map<Integer, List<Gpu>> withoutNic = new TreeMap<>();
        for (Gpu g : gpus) {
            if (!bySwitch.containsKey(g) && g.numaNode() >= 0) {
                withoutNic.computeIfAbsent(g.numaNode(), k -> new ArrayList<>()).add(g);
            }
        }
        withoutNic.forEach((node, nodeGpus) ->
                split(rest.stream().filter(n -> n.numaNode() == node).toList(), nodeGpus, byNode));

        List<TopologyGroup> groups = new ArrayList<>();
        for (Gpu g : gpus) {
            List<RdmaNic> near = bySwitch.get(g);
            NicMatch match = NicMatch.PCIE_SWITCH;
            if (near == null) {
                near = byNode.getOrDefault(g, List.of());
                match = near.isEmpty() ? NicMatch.NONE : NicMatch.NUMA_NODE;
            }
            near = near.stream().sorted(SysfsScan.NIC_ORDER).toList();
            groups.add(new TopologyGroup(g, g.numaNode(), near, match, cpusOf(g.numaNode(), nodes)));
        }
        return groups;
    }

    /** The GPUs sharing the deepest bridge below the root port with {@code nic}; empty when none shares one. */
    private static List<Gpu> closestGpus(RdmaNic nic, List<Gpu> gpus) {
        if (!nic.onPci()) {
            return List.of();
        }
        int best = SAME_SWITCH;
        List<Gpu> closest = new ArrayList<>();
        for (Gpu g : gpus) {
            int shared = g.pci().sharedBridges(nic.pci());
            if (shared > best) {
                best = shared;
                closest.clear();
            }
            if (shared == best) {
                closest.add(g);
            }
        }
        return closest;
    }

    /** NIC {@code k} of {@code n} goes to GPU {@code k * gpus / n}: contiguous runs, earlier GPUs first. */
    private static void split(List<RdmaNic> nics, List<Gpu> gpus, Map<Gpu, List<RdmaNic>> into) {
        for (int k = 0; k < nics.size(); k++) {
            Gpu g = gpus.get(k * gpus.size() / nics.size());
            into.computeIfAbsent(g, x -> new ArrayList<>()).add(nics.get(k));
        }
    }

    private static List<Integer> cpusOf(int node, List<NumaNode> nodes) {
        return nodes.stream().filter(n -> n.id() == node).findFirst().map(NumaNode::cpus).orElse(List.of());
    }
}
