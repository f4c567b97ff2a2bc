package dev.transferengine.api.topology;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads the devices and NUMA nodes out of a sysfs tree ({@code /sys}, or a test fixture shaped like it). Files
 * that are missing count as unknown; a file whose content is not what the kernel writes fails the scan with its
 * name in the message.
 */
final class SysfsScan {
    private static final String NVIDIA = "0x10de";
    private static final Pattern NODE_DIR = Pattern.compile("node(\\d+)");

    private final Path root;

    SysfsScan(Path root) {
        this.root = root;
    }

    /** The NUMA nodes in id order; empty when the kernel exposes none. */
    List<NumaNode> nodes() {
        List<NumaNode> nodes = new ArrayList<>();
        for (Path dir : list(root.resolve("devices/system/node"))) {
            var m = NODE_DIR.matcher(dir.getFileName().toString());
            if (m.matches()) {
                List<Integer> cpus = cpuList(dir.resolve("cpulist")).orElse(List.of());
                nodes.add(new NumaNode(Integer.parseInt(m.group(1)), cpus, cores(cpus)));
            }
        }
        nodes.sort(Comparator.comparingInt(NumaNode::id));
        return nodes;
    }

    /** NVIDIA GPUs on the PCI bus, in address order, numbered in that order. */
    List<Gpu> gpus(List<NumaNode> nodes) {
        List<Path> found = new ArrayList<>();
        for (Path dev : list(root.resolve("bus/pci/devices"))) {
            String cls = read(dev.resolve("class")).orElse("");
            boolean display = cls.startsWith("0x0302") || cls.startsWith("0x0300");
            if (display && read(dev.resolve("vendor")).orElse("").equals(NVIDIA)) {
                found.add(dev);
            }
        }
        found.sort(Comparator.comparing(p -> p.getFileName().toString()));
        List<Gpu> gpus = new ArrayList<>();
        for (Path dev : found) {
            gpus.add(new Gpu(gpus.size(), PciPath.of(realPath(dev)), read(dev.resolve("device")).orElse(""),
                    numaNode(dev, nodes)));
        }
        return gpus;
    }

    /** RDMA devices, PCI ones in address order, then virtual ones by name. */
    List<RdmaNic> nics(List<NumaNode> nodes) {
        List<RdmaNic> nics = new ArrayList<>();
        for (Path ib : list(root.resolve("class/infiniband"))) {
            String name = ib.getFileName().toString();
            Path device = ib.resolve("device");
            Path pci = Files.isDirectory(device) ? pciFunction(realPath(device)) : null;
            if (pci != null) {
                Path driverLink = pci.resolve("driver");
                String driver = Files.exists(driverLink) ? realPath(driverLink).getFileName().toString() : "";
                nics.add(new RdmaNic(name, kind(name, driver), PciPath.of(pci), driver, numaNode(pci, nodes)));
            } else {
                nics.add(new RdmaNic(name, kind(name, ""), null, "", nodes.size() == 1 ? nodes.getFirst().id() : -1));
            }
        }
        nics.sort(NIC_ORDER);
        return nics;
    }

    /**
     * The PCI function {@code device} is or hangs off (a virtio network device under its PCI function, say), or
     * null when it is not under one.
     */
    private static Path pciFunction(Path device) {
        for (Path p = device; p != null && p.getFileName() != null; p = p.getParent()) {
            if (PciPath.isAddress(p.getFileName().toString())) {
                return p;
            }
        }
        return null;
    }

    /** PCI address order, virtual devices last by name. */
    static final Comparator<RdmaNic> NIC_ORDER = Comparator
            .comparing((RdmaNic n) -> n.onPci() ? n.pci().address() : "~")
            .thenComparing(RdmaNic::name);

    private static NicKind kind(String name, String driver) {
        if (driver.equals("efa") || (driver.isEmpty() && name.startsWith("rdmap"))) {
            return NicKind.EFA;
        }
        if (driver.startsWith("mlx5") || (driver.isEmpty() && name.startsWith("mlx5_"))) {
            return NicKind.CONNECTX;
        }
        return NicKind.OTHER;
    }

    /** The device's {@code numa_node}; -1 (no affinity reported, common in VMs) means the only node if there is one. */
    private int numaNode(Path dev, List<NumaNode> nodes) {
        int node = read(dev.resolve("numa_node")).map(s -> integer(s, dev.resolve("numa_node"))).orElse(-1);
        if (node < 0 && nodes.size() == 1) {
            return nodes.getFirst().id();
        }
        return node;
    }

    /** The lowest CPU of each physical core among {@code cpus}. */
    private List<Integer> cores(List<Integer> cpus) {
        TreeSet<Integer> cores = new TreeSet<>();
        for (int cpu : cpus) {
            Path siblings = root.resolve("devices/system/cpu/cpu" + cpu + "/topology/thread_siblings_list");
            List<Integer> set = cpuList(siblings).orElse(List.of(cpu));
            cores.add(set.isEmpty() ? cpu : Math.min(cpu, set.getFirst()));
        }
        return List.copyOf(cores);
    }

    private Optional<List<Integer>> cpuList(Path file) {
        return read(file).map(text -> {
            try {
                return CpuList.parse(text);
            } catch (InvalidRequestException e) {
                throw malformed(file, e.getMessage());
            }
        });
    }

    private static int integer(String text, Path file) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw malformed(file, "'" + text + "' is not a number");
        }
    }

    private static TransferException malformed(Path file, String what) {
        return new TransferException(ErrorCategory.UNAVAILABLE, "cannot read the topology from " + file + ": " + what);
    }

    private static Optional<String> read(Path file) {
        try {
            return Optional.of(Files.readString(file).strip());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static Path realPath(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resolve " + p, e);
        }
    }

    private static List<Path> list(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }
}
