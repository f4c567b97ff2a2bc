package dev.transferengine.efa;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.testing.ChildJvm;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The parent's side of a {@link TargetProcessMain} in a {@link ChildJvm}: its arguments, its READY line (address,
 * region, signal handlers) and its commands. Not thread-safe: one test thread talks to it.
 */
final class TargetProcess implements AutoCloseable {
    static final Duration DEADLINE = Duration.ofSeconds(90);

    private final ChildJvm child;
    final DomainAddress address;
    final RemoteRegion region;
    final String sigsegvOwner;
    /** Signals whose handlers libfabric replaced in the child and the provider restored ("none" or "11,7"). */
    final String restoredSignals;

    /**
     * @param keepIpathVariable false to start the child without IPATH_NO_BACKTRACE in its environment, so it
     *                          depends on the provider setting it before libfabric loads
     */
    TargetProcess(String providerAlias, int nics, long regionBytes, boolean keepIpathVariable, int... imms)
            throws IOException, InterruptedException {
        this(List.of(), providerAlias, nics, regionBytes, keepIpathVariable, imms);
    }

    /** @param jvmArgs extra JVM arguments for the child (system properties such as {@code te.libfabric.library}) */
    TargetProcess(List<String> jvmArgs, String providerAlias, int nics, long regionBytes, boolean keepIpathVariable,
                  int... imms) throws IOException, InterruptedException {
        this(List.of(), jvmArgs, providerAlias, nics, regionBytes, keepIpathVariable, imms);
    }

    /**
     * @param commandPrefix words before the java command, e.g. {@code ip netns exec NAME} to run the child in another
     *                      network namespace
     * @param jvmArgs       extra JVM arguments for the child
     */
    TargetProcess(List<String> commandPrefix, List<String> jvmArgs, String providerAlias, int nics, long regionBytes,
                  boolean keepIpathVariable, int... imms) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of(providerAlias, Integer.toString(nics), Long.toString(regionBytes)));
        for (int imm : imms) {
            args.add(Integer.toString(imm));
        }
        ChildJvm.Builder b = ChildJvm.builder(TargetProcessMain.class).commandPrefix(commandPrefix)
                .jvmArgs("-Xmx256m").jvmArgs(jvmArgs).args(args).quitLine("QUIT").deadline(DEADLINE);
        if (!keepIpathVariable) {
            b.withoutEnv("IPATH_NO_BACKTRACE");
        }
        child = b.start();
        try {
            String ready = child.expect("READY");
            address = DomainAddress.fromHex(ChildJvm.field(ready, "addr"));
            region = RemoteRegion.fromHex(ChildJvm.field(ready, "region"));
            sigsegvOwner = ChildJvm.field(ready, "sigsegv");
            restoredSignals = ChildJvm.field(ready, "restored");
        } catch (AssertionError | RuntimeException e) {
            child.kill();
            throw e;
        }
    }

    /** Sends a command and returns the first answer line starting with one of {@code answers}. */
    String ask(String command, String... answers) {
        return child.ask(command, answers);
    }

    long checksum(long offset, long length) {
        return Long.parseLong(ask("CHECKSUM " + offset + " " + length, "SUM").split(" ")[1]);
    }

    /** Waits in the child until {@code n} imms of {@code imm} arrived; returns how many arrived. */
    long count(int imm, long n) {
        String[] w = ask("COUNT " + imm + " " + n, "COUNTED", "TIMEOUT").split(" ");
        if (!w[0].equals("COUNTED")) {
            fail("child counted only " + w[2] + " of " + n + " imms " + imm + "; stderr:\n" + child.stderrTail());
        }
        return Long.parseLong(w[2]);
    }

    /** Kills the child at once (SIGKILL): no cleanup on its side, so its shm files are removed here. */
    void kill() throws InterruptedException, IOException {
        child.kill();
    }

    @Override
    public void close() throws Exception {
        child.close();
    }
}
