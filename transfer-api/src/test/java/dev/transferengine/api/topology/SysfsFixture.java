package dev.transferengine.api.topology;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a sysfs tree in a directory from a compact description in {@code src/test/resources/topology/}, with the
 * symbolic links the kernel makes (kept as text because git-tracked symlinks travel badly). One entry a line:
 * <pre>
 * node ID CPULIST                      devices/system/node/nodeID/cpulist
 * siblings FIRST-LAST +OFFSET          cpuN and cpuN+OFFSET are hyperthreads of one core (thread_siblings_list)
 * pci PATH class=.. vendor=.. device=.. numa=N [driver=NAME]
 *                                      devices/PATH with those files; bus/pci/devices/ADDRESS links to it; bridges
 *                                      on the path get class 0x060400 and their own bus/pci/devices link
 * ib NAME ADDRESS | virtual            class/infiniband/NAME, under the PCI device ADDRESS (with its device link)
 *                                      or under devices/virtual/infiniband
 * </pre>
 */
final class SysfsFixture {
    private final Path root;
    private final Map<String, Path> pciByAddress = new HashMap<>();

    private SysfsFixture(Path root) {
        this.root = root;
    }

    /** Writes the tree {@code topology/<name>.txt} describes under {@code root}; returns {@code root}. */
    static Path build(String name, Path root) throws IOException {
        String text;
        try (InputStream in = SysfsFixture.class.getResourceAsStream("/topology/" + name + ".txt")) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture topology/" + name + ".txt");
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        SysfsFixture f = new SysfsFixture(root);
        for (String line : text.lines().toList()) {
            String l = line.strip();
            if (!l.isEmpty() && !l.startsWith("#")) {
                f.entry(List.of(l.split("\\s+")));
            }
        }
        return root;
    }

    private void entry(List<String> w) throws IOException {
        switch (w.getFirst()) {
            case "node" -> write(root.resolve("devices/system/node/node" + w.get(1) + "/cpulist"), w.get(2));
            case "siblings" -> siblings(w.get(1), Integer.parseInt(w.get(2).substring(1)));
            case "pci" -> pci(w.get(1), w.subList(2, w.size()));
            case "ib" -> ib(w.get(1), w.get(2));
            default -> throw new IllegalArgumentException("unknown fixture entry " + w);
        }
    }

    private void siblings(String range, int offset) throws IOException {
        String[] ends = range.split("-");
        for (int cpu = Integer.parseInt(ends[0]); cpu <= Integer.parseInt(ends[1]); cpu++) {
            String list = cpu + "," + (cpu + offset);
            write(root.resolve("devices/system/cpu/cpu" + cpu + "/topology/thread_siblings_list"), list);
            write(root.resolve("devices/system/cpu/cpu" + (cpu + offset) + "/topology/thread_siblings_list"), list);
        }
    }

    private void pci(String path, List<String> attributes) throws IOException {
        Path dir = root.resolve("devices").resolve(path);
        Files.createDirectories(dir);
        for (Path p = dir.getParent(); PciPath.isAddress(p.getFileName().toString()); p = p.getParent()) {
            if (!Files.exists(p.resolve("class"))) {
                write(p.resolve("class"), "0x060400");
                link(p);
            }
        }
        for (String a : attributes) {
            String[] kv = a.split("=", 2);
            if (kv[0].equals("driver")) {
                Path driver = root.resolve("bus/pci/drivers/" + kv[1]);
                Files.createDirectories(driver);
                Files.createSymbolicLink(dir.resolve("driver"), dir.relativize(driver));
            } else {
                write(dir.resolve(kv[0].equals("numa") ? "numa_node" : kv[0]), kv[1]);
            }
        }
        link(dir);
    }

    private void link(Path deviceDir) throws IOException {
        String address = deviceDir.getFileName().toString();
        Path link = root.resolve("bus/pci/devices/" + address);
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, link.getParent().relativize(deviceDir));
        pciByAddress.put(address, deviceDir);
    }

    private void ib(String name, String where) throws IOException {
        Path dir;
        if (where.equals("virtual")) {
            dir = root.resolve("devices/virtual/infiniband/" + name);
            Files.createDirectories(dir);
        } else {
            Path pci = pciByAddress.get(where);
            if (pci == null) {
                throw new IllegalArgumentException("ib " + name + " names PCI device " + where + " before its pci line");
            }
            dir = pci.resolve("infiniband/" + name);
            Files.createDirectories(dir);
            Files.createSymbolicLink(dir.resolve("device"), dir.relativize(pci));
        }
        write(dir.resolve("node_type"), "1: CA");
        Path link = root.resolve("class/infiniband/" + name);
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, link.getParent().relativize(dir));
    }

    private static void write(Path file, String content) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, content + "\n");
    }
}
