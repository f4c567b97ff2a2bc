package dev.transferengine.bench.cli;

import dev.transferengine.bench.TransferBench;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** transfer-bench topology on a small sysfs tree: one GPU and one ConnectX behind a switch, one NUMA node. */
class TopologyCommandTest {
    @TempDir
    Path sys;

    private String run(String... args) {
        StringWriter out = new StringWriter();
        CommandLine cl = TransferBench.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(out, true));
        assertEquals(0, cl.execute(args), out::toString);
        return out.toString();
    }

    @Test
    void printsTheDevicesAndTheGroupWithItsWorkerCpu() throws IOException {
        write("devices/system/node/node0/cpulist", "0-7");
        Path sw = sys.resolve("devices/pci0000:00/0000:00:01.0/0000:01:00.0");
        Path gpu = pciDevice(sw.resolve("0000:02:00.0/0000:03:00.0"), "0x030200", "0x10de");
        Path nic = pciDevice(sw.resolve("0000:02:01.0/0000:04:00.0"), "0x020700", "0x15b3");
        Path ib = nic.resolve("infiniband/mlx5_0");
        Files.createDirectories(ib);
        Files.createSymbolicLink(ib.resolve("device"), ib.relativize(nic));
        link(sys.resolve("class/infiniband/mlx5_0"), ib);
        assertTrue(Files.isDirectory(gpu));

        String out = run("topology", "--sysfs", sys.toString(), "--reserve", "0,7", "--paths");
        assertTrue(out.contains("1 GPUs, 1 RDMA NICs, 1 NUMA nodes"), out);
        assertTrue(out.contains("GPU 0  0000:03:00.0  device 0x2330  node 0"), out);
        assertTrue(out.contains("path 0000:00:01.0 > 0000:01:00.0 > 0000:02:00.0 > 0000:03:00.0"), out);
        assertTrue(out.contains("group 0  GPU 0 (cuda 0)  node 0  NICs mlx5_0 [PCIE_SWITCH]  worker CPU 6  node CPUs 0-7"), out);
    }

    @Test
    void aTreeWithoutDevicesHasNoGroups() throws IOException {
        write("devices/system/node/node0/cpulist", "0-1");
        String out = run("topology", "--sysfs", sys.toString());
        assertTrue(out.contains("GPUs: none"), out);
        assertTrue(out.contains("Groups: none"), out);
    }

    private Path pciDevice(Path dir, String cls, String vendor) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("class"), cls + "\n");
        Files.writeString(dir.resolve("vendor"), vendor + "\n");
        Files.writeString(dir.resolve("device"), "0x2330\n");
        Files.writeString(dir.resolve("numa_node"), "-1\n");
        link(sys.resolve("bus/pci/devices/" + dir.getFileName()), dir);
        return dir;
    }

    private void link(Path link, Path target) throws IOException {
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, link.getParent().relativize(target));
    }

    private void write(String file, String content) throws IOException {
        Path p = sys.resolve(file);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content + "\n");
    }
}
