package dev.transferengine.bench.cli;

import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.topology.CpuList;
import dev.transferengine.api.topology.Gpu;
import dev.transferengine.api.topology.GroupPlanner;
import dev.transferengine.api.topology.NumaNode;
import dev.transferengine.api.topology.PlannedGroup;
import dev.transferengine.api.topology.RdmaNic;
import dev.transferengine.api.topology.Topology;
import dev.transferengine.api.topology.TopologyGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code transfer-bench topology} ({@code ./te topology}): what {@link Topology#discover} finds on this machine
 * (NUMA nodes, GPUs, RDMA NICs with their PCIe paths) and the engine groups the builder would make of it.
 */
@Command(name = "topology", sortOptions = false, mixinStandardHelpOptions = true,
        description = "Print the GPUs, RDMA NICs and NUMA nodes found in sysfs and the engine groups built from them.")
public final class TopologyCommand implements Callable<Integer> {
    @Option(names = "--sysfs", description = "sysfs root to read (default: /sys, and this process's allowed CPUs)")
    Path sysfs;

    @Option(names = "--reserve", description = "CPUs no worker is pinned to, kernel list format (default ${DEFAULT-VALUE})")
    String reserve = "0";

    @Option(names = "--paths", description = "print each device's PCIe path (bridges from the root port down)")
    boolean paths;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Topology t = sysfs == null ? Topology.discover() : Topology.discover(sysfs);
        GroupPlanner planner = GroupPlanner.forThisProcess()
                .reservedCpus(CpuList.parse(reserve).stream().mapToInt(Integer::intValue).toArray());
        out.printf("Topology of %s: %d GPUs, %d RDMA NICs, %d NUMA nodes; workers may use CPUs %s%n",
                sysfs == null ? "/sys" : sysfs, t.gpus().size(), t.nics().size(), t.nodes().size(),
                CpuList.format(t.allowedCpus()));
        out.println("NUMA nodes:");
        for (NumaNode n : t.nodes()) {
            out.printf("  node %d  CPUs %s  (%d cores)%n", n.id(), CpuList.format(n.cpus()), n.cores().size());
        }
        out.println(t.gpus().isEmpty() ? "GPUs: none" : "GPUs (PCI bus order):");
        for (Gpu g : t.gpus()) {
            out.printf("  GPU %d  %s  device %s  node %s%n", g.index(), g.pciAddress(), g.deviceId(), node(g.numaNode()));
            if (paths) {
                out.printf("      path %s%n", g.pci());
            }
        }
        out.println(t.nics().isEmpty() ? "RDMA NICs: none" : "RDMA NICs:");
        for (RdmaNic n : t.nics()) {
            out.printf("  %-12s %-8s %-10s %-13s node %-3s domain %s%n", n.name(), n.kind(),
                    n.driver().isEmpty() ? "-" : n.driver(), n.onPci() ? n.pci().address() : "virtual",
                    node(n.numaNode()), n.domainName());
            if (paths && n.onPci()) {
                out.printf("      path %s%n", n.pci());
            }
        }
        printGroups(out, t, planner.planGroups(t));
        return 0;
    }

    private static void printGroups(PrintWriter out, Topology t, List<PlannedGroup> planned) {
        if (t.groups().isEmpty()) {
            out.println("Groups: none (no GPU and no RDMA NIC): the builder keeps its default group");
            return;
        }
        String visible = System.getenv("CUDA_VISIBLE_DEVICES");
        out.println("Groups (TransferEngine.Builder.groupsFromTopology; CUDA ordinal = PCI bus order"
                + (visible == null ? "" : ", CUDA_VISIBLE_DEVICES=" + visible) + "):");
        for (int i = 0; i < planned.size(); i++) {
            TopologyGroup g = planned.get(i).source();
            GroupSpec s = planned.get(i).spec();
            String who = g.hasGpu() ? "GPU " + g.gpu().index() + " (cuda " + s.cudaDevice() + ")" : "host";
            String nics = g.nics().isEmpty() ? "provider's choice" : String.join(",", g.domainNames());
            out.printf("  group %d  %s  node %s  NICs %s [%s]  worker CPU %s  node CPUs %s%n", i, who,
                    node(g.numaNode()), nics, g.match(), s.pinCpu() < 0 ? "unpinned" : s.pinCpu(),
                    g.cpus().isEmpty() ? "-" : CpuList.format(g.cpus()));
        }
        if (planned.size() < t.groups().size()) {
            out.printf("  (%d GPU groups left out: their GPUs are not in CUDA_VISIBLE_DEVICES)%n",
                    t.groups().size() - planned.size());
        }
        List<RdmaNic> left = t.unassignedNics();
        if (!left.isEmpty()) {
            out.println("In no group (near no GPU): " + String.join(", ", left.stream().map(RdmaNic::name).toList()));
        }
    }

    private static String node(int id) {
        return id < 0 ? "?" : Integer.toString(id);
    }
}
