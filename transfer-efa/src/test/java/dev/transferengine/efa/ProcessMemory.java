package dev.transferengine.efa;

import dev.transferengine.testing.NativeMemoryProbe;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * This process's memory as the kernel, the C library and the JVM see it: the resident set ({@code VmRSS} in
 * /proc/self/status, which includes the Java heap), the C heap in use (glibc {@code mallinfo2}: every
 * {@code Arena.allocate} and every malloc of libfabric and the JVM), and the JVM's native memory tracking total
 * when it runs with {@code -XX:NativeMemoryTracking=summary} (read with {@code jcmd PID VM.native_memory summary}).
 */
final class ProcessMemory {
    private ProcessMemory() {
    }

    /** Bytes of C heap in use (mallinfo2 {@code uordblks + hblkhd}) in KiB, or -1 without glibc's mallinfo2. */
    static long cHeapKilobytes() {
        return NativeMemoryProbe.inUseBytes().orElse(-1024) / 1024;
    }

    /** VmRSS in KiB. */
    static long residentKilobytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    /** NMT's "Total ... committed=" in KiB, or -1 when tracking is off or jcmd is not there. */
    static long nmtCommittedKilobytes() {
        Path jcmd = ProcessHandle.current().info().command().map(Path::of).map(p -> p.resolveSibling("jcmd"))
                .orElse(null);
        if (jcmd == null || !Files.isExecutable(jcmd)) {
            return -1;
        }
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(ProcessHandle.current().pid()),
                    "VM.native_memory", "summary", "scale=KB").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            for (String line : out.split("\n")) {
                int i = line.indexOf("committed=");
                if (line.trim().startsWith("Total:") && i >= 0) {
                    return Long.parseLong(line.substring(i + "committed=".length()).replaceAll("[^0-9].*", ""));
                }
            }
            return -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
