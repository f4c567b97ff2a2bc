package dev.transferengine.bench.cli;

import dev.transferengine.api.GroupInvoker;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.ThreadingMode;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.TransferBench;
import dev.transferengine.bench.cases.BenchBuffers;
import dev.transferengine.bench.cases.CaseRunner;
import dev.transferengine.bench.cases.SweepPlan;
import dev.transferengine.bench.cases.WriteCase;
import dev.transferengine.bench.report.CountersReport;
import dev.transferengine.bench.report.JsonReport;
import dev.transferengine.bench.report.ProgressBar;
import dev.transferengine.bench.report.ResultSink;
import dev.transferengine.bench.report.RunInfo;
import dev.transferengine.bench.report.TableReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code transfer-bench local}: a sender and a receiver engine in one process, on the same provider,
 * writing from the sender's source region into the receiver's destination region. Measures the whole
 * path a user's transfer takes (submit, worker, provider, imm counting) without a second machine.
 */
@Command(name = "local", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Two engines in one process: sweep single and paged writes, print a table.",
                "A write is done when the receiver has counted its imms (--completion imm, the default) "
                        + "or when the sender got its completion (--completion local)."})
public final class LocalCommand implements Callable<Integer> {
    /** Slot {@code s} writes carry imm {@code IMM_BASE + s}; any value works, this one is easy to spot. */
    static final int IMM_BASE = 0x0BE0_0000;

    @Mixin
    EngineOptions engine = new EngineOptions();

    @Mixin
    SweepOptions sweep = new SweepOptions();

    @Spec
    CommandSpec spec;

    @picocli.CommandLine.Option(names = "--device", paramLabel = "DEVICE", defaultValue = "host",
            description = "host (default) or cuda:N: GPU memory on device N, run as `transfer-bench gpu --device N` "
                    + "(engine rows against CUDA copies in the same run)")
    String device = "host";

    @picocli.CommandLine.Option(names = "--threading", paramLabel = "MODE", defaultValue = "dedicated",
            description = "dedicated (default): a worker thread per engine; invoker: no worker threads, the bench "
                    + "thread drives both engines while it waits (ThreadingMode.INVOKER, no thread hop).")
    String threading = "dedicated";

    @picocli.CommandLine.Option(names = "--jit-warmup", paramLabel = "N", defaultValue = "400000",
            description = "Untimed writes of the first row before any row is measured, so no row is timed while the "
                    + "JIT compiles the hot path (default: ${DEFAULT-VALUE}; 0: none).")
    int jitWarmup = 400_000;

    @picocli.CommandLine.Option(names = "--jfr", paramLabel = "FILE",
            description = "Record the run with JDK Flight Recorder (the engine's events: every transfer, errors, "
                    + "registrations) into FILE; read it with `jfr print --events dev.transferengine.Transfer FILE`.")
    java.nio.file.Path jfr;

    @Override
    public Integer call() {
        if (jfr == null) {
            return run();
        }
        try (jdk.jfr.Recording recording = new jdk.jfr.Recording()) {
            recording.enable("dev.transferengine.Transfer").withThreshold(java.time.Duration.ZERO);
            recording.enable("dev.transferengine.TransferError");
            recording.enable("dev.transferengine.Registration").withThreshold(java.time.Duration.ZERO);
            recording.enable("dev.transferengine.PeerConnection").withThreshold(java.time.Duration.ZERO);
            recording.start();
            int rc = run();
            recording.stop();
            recording.dump(jfr);
            spec.commandLine().getErr().println("JFR recording written to " + jfr);
            return rc;
        } catch (java.io.IOException e) {
            throw new BenchFailure("cannot write the JFR recording " + jfr + ": " + e, e);
        }
    }

    private int run() {
        if (device.startsWith("cuda:")) {
            String ordinal = device.substring("cuda:".length());
            return TransferBench.commandLine().setOut(spec.commandLine().getOut()).setErr(spec.commandLine().getErr())
                    .execute("gpu", "--device", ordinal, "--provider", engine.provider().cliName());
        }
        if (!device.equals("host")) {
            throw new IllegalArgumentException("--device must be host or cuda:N, got '" + device + "'");
        }
        ThreadingMode mode = switch (threading) {
            case "dedicated" -> ThreadingMode.DEDICATED;
            case "invoker" -> ThreadingMode.INVOKER;
            default -> throw new IllegalArgumentException("--threading must be dedicated or invoker, got '"
                    + threading + "'");
        };
        if (jitWarmup < 0) {
            throw new IllegalArgumentException("--jit-warmup must be >= 0, got " + jitWarmup);
        }
        SweepPlan plan = sweep.plan();
        List<WriteCase> cases = plan.cases();
        long sourceSpan = 0;
        long destinationBytes = 0;
        for (WriteCase c : cases) {
            sourceSpan = Math.max(sourceSpan, c.sourceSpan());
            destinationBytes = Math.max(destinationBytes, plan.windowFor(c.bytesPerOp()) * c.bytesPerOp());
        }
        ProgressBar progress = sweep.progress() ? ProgressBar.on(spec.commandLine().getErr(), cases.size()) : ProgressBar.off();
        ResultSink sink = sweep.json() ? new JsonReport(spec.commandLine().getOut())
                : new TableReport(spec.commandLine().getOut(), progress);

        try (TransferEngine receiver = engine.builder("bench-receiver").threadingMode(mode).build();
             TransferEngine sender = engine.builder("bench-sender").threadingMode(mode).build();
             BenchBuffers buffers = new BenchBuffers(sender, receiver, sourceSpan, destinationBytes, plan.seed())) {
            ImmCounter[] immCounters = new ImmCounter[plan.window()];
            for (int slot = 0; slot < immCounters.length; slot++) {
                immCounters[slot] = receiver.immCounter(IMM_BASE + slot);
            }
            sink.start(runInfo(plan, sender, mode));
            GroupInvoker driver = mode == ThreadingMode.INVOKER ? bothGroups(sender.invoker(0), receiver.invoker(0)) : null;
            CaseRunner runner = new CaseRunner(sender, buffers, immCounters, IMM_BASE, plan, engine.timeout(), progress,
                    driver);
            if (jitWarmup > 0 && !cases.isEmpty()) {
                runner.warmUpJit(cases.getFirst(), jitWarmup);
            }
            for (WriteCase c : cases) {
                sink.row(runner.run(c));
            }
            sink.finish();
            if (!sweep.json()) {
                spec.commandLine().getOut().println("sender counters: " + CountersReport.summary(sender.counters()));
            }
        } finally {
            progress.clear();
        }
        return 0;
    }

    /** One cycle of the sender's group, then one of the receiver's: the bench thread moves both engines. */
    private static GroupInvoker bothGroups(GroupInvoker sender, GroupInvoker receiver) {
        return new GroupInvoker() {
            @Override
            public int group() {
                return 0;
            }

            @Override
            public int invoke() {
                return sender.invoke() + receiver.invoke();
            }
        };
    }

    private RunInfo runInfo(SweepPlan plan, TransferEngine sender, ThreadingMode mode) {
        // The threading mode is part of what was measured: the table's first line names it.
        String runMode = mode == ThreadingMode.INVOKER ? "local (threading invoker)" : "local";
        return new RunInfo("transfer-bench", runMode, engine.provider().cliName(), sender.providerName(),
                engine.effectiveProviderOptions(), sender.groupCount(), sender.nicCount(0),
                plan.completion().name().toLowerCase(java.util.Locale.ROOT), plan.window(), plan.maxInflightBytes(),
                plan.warmup(), plan.iterations(), plan.bytesPerCase(), plan.verify(), sender.linkSpeedBitsPerSecond(),
                Runtime.version().toString());
    }
}
