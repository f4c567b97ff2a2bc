package dev.transferengine.efa;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace joined to this one by a veth pair, for partition tests: {@code hostAddress} on the host end
 * (in this process's namespace), {@code peerAddress} on the end inside the namespace; {@link #cut()} and
 * {@link #restore()} take the host end down and up. Needs root and iproute2; {@link #unavailableReason()} says why
 * not. {@link #close()} removes the pair and the namespace, also after a partial set-up.
 */
final class VethNamespace implements AutoCloseable {
    final String namespace;
    final String hostLink;
    final String peerLink;
    final String hostAddress;
    final String peerAddress;

    private VethNamespace(String tag, int subnet) {
        namespace = "te9-" + tag;
        hostLink = "te9h" + tag;
        peerLink = "te9n" + tag;
        hostAddress = "10.199." + subnet + ".1";
        peerAddress = "10.199." + subnet + ".2";
    }

    /** Why partition tests cannot run here, or null when they can (root and {@code ip netns} available). */
    static String unavailableReason() {
        try {
            String uid = run(List.of("id", "-u")).trim();
            if (!uid.equals("0")) {
                return "needs root to create network namespaces (uid " + uid + ")";
            }
            run(List.of("ip", "netns", "list"));
            return null;
        } catch (IOException | RuntimeException e) {
            return "ip netns is not usable: " + e.getMessage();
        }
    }

    /** Creates the namespace, the pair and the addresses; brings both ends and the namespace's lo up. */
    static VethNamespace create() throws IOException {
        long pid = ProcessHandle.current().pid();
        VethNamespace v = new VethNamespace(Long.toString(pid % 1_000_000), (int) (pid % 250) + 1);
        try {
            v.cleanUp(); // leftovers of an earlier run of the same pid
            run(List.of("ip", "netns", "add", v.namespace));
            run(List.of("ip", "link", "add", v.hostLink, "type", "veth", "peer", "name", v.peerLink));
            run(List.of("ip", "link", "set", v.peerLink, "netns", v.namespace));
            run(List.of("ip", "addr", "add", v.hostAddress + "/24", "dev", v.hostLink));
            run(List.of("ip", "link", "set", v.hostLink, "up"));
            v.inside("ip", "addr", "add", v.peerAddress + "/24", "dev", v.peerLink);
            v.inside("ip", "link", "set", v.peerLink, "up");
            v.inside("ip", "link", "set", "lo", "up");
            return v;
        } catch (IOException | RuntimeException e) {
            v.close();
            throw e;
        }
    }

    /** {@code ip netns exec NAME}: the prefix that runs a command inside the namespace. */
    List<String> execPrefix() {
        return List.of("ip", "netns", "exec", namespace);
    }

    void cut() throws IOException {
        run(List.of("ip", "link", "set", hostLink, "down"));
    }

    void restore() throws IOException {
        run(List.of("ip", "link", "set", hostLink, "up"));
    }

    private void inside(String... command) throws IOException {
        List<String> c = new ArrayList<>(execPrefix());
        c.addAll(List.of(command));
        run(c);
    }

    private void cleanUp() {
        quietly(List.of("ip", "link", "del", hostLink)); // removes both ends
        quietly(List.of("ip", "netns", "del", namespace));
    }

    @Override
    public void close() {
        cleanUp();
    }

    private static void quietly(List<String> command) {
        try {
            run(command);
        } catch (IOException | RuntimeException e) {
            // absent already
        }
    }

    /** Runs a command, returns its output; throws with the output when it fails or takes over 30 s. */
    static String run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in 30 s");
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed (" + p.exitValue() + "): " + out.trim());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
    }
}
