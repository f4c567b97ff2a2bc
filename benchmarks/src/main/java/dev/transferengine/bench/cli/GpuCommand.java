package dev.transferengine.bench.cli;

import dev.transferengine.api.Access;
import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.Routing;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferRequest;
import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.baseline.NativeBaseline;
import dev.transferengine.bench.cases.RateSample;
import dev.transferengine.bench.process.BenchChild;
import dev.transferengine.cuda.Cuda;
import dev.transferengine.cuda.CudaDeviceBackend;
import dev.transferengine.cuda.CudaDeviceMemory;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceCopyQueue;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.function.LongFunction;

/**
 * {@code transfer-bench gpu}: GPU memory through the engine against the physical reference measured in the
 * same run. For each size: device-to-device, host-to-device and device-to-host copies on one CUDA stream,
 * back to back (the reference), and the same moves as engine writes with imms (single writes, paged writes of
 * {@code --page} pages, and device-to-host writes staged through pinned bounce slots), each timed from the
 * first submit until the receiver counted every imm. Ratios are engine / reference of the same run.
 *
 * <p>With {@code --peer-process} the receiver is a second process ({@code gpu-target}); {@code --cuda-ipc} picks
 * whether the writing engine uses its own same-host CUDA IPC path (engine option {@code cudaIpc}), the
 * provider's path ({@code cudaIpc=false}: on shm, libfabric's own CUDA IPC), or both in the same run; and
 * {@code --baseline-binary} adds the native baseline of the same case, {@code fi_write_bench -P -D cuda:N}
 * (two processes, GPU to GPU, straight over libfabric), with the ratio of each engine GPU-to-GPU row to it.
 */
@Command(name = "gpu", sortOptions = false, mixinStandardHelpOptions = true,
        description = "GPU memory through the engine vs CUDA stream copies in the same run (needs a GPU).")
public final class GpuCommand implements Callable<Integer> {
    private static final int IMM = 0x0C0D_A000;

    @Option(names = "--device", description = "CUDA ordinal (default ${DEFAULT-VALUE})")
    int device = 0;

    @Option(names = "--provider", description = "engine provider (default ${DEFAULT-VALUE})")
    String provider = "loopback";

    @Option(names = "--option", description = "provider option key=value (repeatable)")
    Map<String, String> options = new LinkedHashMap<>();

    @Option(names = "--sizes", description = "write sizes (default ${DEFAULT-VALUE})")
    String sizes = "64K,1M,16M";

    @Option(names = "--page", description = "page size of paged writes (default ${DEFAULT-VALUE})")
    String page = "64K";

    @Option(names = "--page-order", description = "destination pages of paged writes: ordered (page i to page i: "
            + "contiguous runs) or reversed (page i to page n-1-i: no two pages contiguous, as in the KV kit); "
            + "default ${DEFAULT-VALUE}")
    PageOrder pageOrder = PageOrder.ORDERED;

    /** Where paged writes put their pages. */
    enum PageOrder { ORDERED, REVERSED }

    @Option(names = "--spread", description = "single GPU->GPU writes (and their reference copies) go to successive "
            + "offsets of a GPU buffer this large on both sides, instead of all to offset 0, so that they are not "
            + "served from the GPU's L2 cache (e.g. 1G; default 0: every write to offset 0)")
    String spread = "0";

    @Option(names = "--bytes-per-row", description = "bytes moved per row, bounds iterations (default ${DEFAULT-VALUE})")
    String bytesPerRow = "8G";

    @Option(names = "--max-iterations", description = "most writes per row (default ${DEFAULT-VALUE})")
    int maxIterations = 20_000;

    @Option(names = "--window", description = "writes in flight (default ${DEFAULT-VALUE})")
    int window = 32;

    @Option(names = "--rows", split = ",", description = "rows to run: d2d,paged,h2d,d2h,staged (default all)")
    List<String> rows = List.of("d2d", "paged", "h2d", "d2h", "staged");

    /** Which path the writing engine takes to GPU memory of another process on this host. */
    enum CudaIpcMode {
        /** The engine's default: its own CUDA IPC path where it applies (cudaIpc unset). */
        ON,
        /** {@code cudaIpc=false} in both processes: the provider's path (shm: libfabric's CUDA IPC). */
        OFF,
        /** Both in the same run: every GPU-destination row twice, the second from an engine with cudaIpc=false. */
        BOTH
    }

    @Option(names = "--cuda-ipc", paramLabel = "MODE",
            description = "Same-host GPU path of the writing engine: on (the engine's CUDA IPC path, its default), off "
                    + "(engine option cudaIpc=false: through the provider, on shm libfabric's own CUDA IPC) or both "
                    + "(each row twice in the same run; needs --peer-process) (default: ${DEFAULT-VALUE}).")
    CudaIpcMode cudaIpc = CudaIpcMode.ON;

    @Option(names = "--baseline-binary", paramLabel = "FILE",
            description = "A prebuilt fi_write_bench (benchmarks/native): with --peer-process and a libfabric provider "
                    + "(shm), runs `fi_write_bench -p PROVIDER -P -D cuda:DEVICE` for each size with the same writes, "
                    + "warm-up and window, and prints its rate and each engine GPU->GPU row's ratio to it. It runs on "
                    + "the engine's libfabric (libfabric.library / -Dte.libfabric.library / TE_LIBFABRIC_LIBRARY, "
                    + "through LD_PRELOAD).")
    Path baselineBinary;

    @Option(names = "--baseline-idle", paramLabel = "MODE",
            description = "The C baseline's threads after 100 empty CQ polls in a row: spin on (like fi_rma_bw), or "
                    + "yield the core (fi_write_bench -y) (default: ${DEFAULT-VALUE}).")
    CompareCommand.BaselineIdle baselineIdle = CompareCommand.BaselineIdle.SPIN;

    @Spec
    CommandSpec spec;

    private final Duration timeout = Duration.ofSeconds(60);
    /** One baseline process (CUDA and libfabric set-up, warm-up, the timed writes). */
    private static final Duration BASELINE_TIMEOUT = Duration.ofSeconds(180);

    /** The option the engine reads to turn its same-host GPU path off (transfer-core DefaultTransferEngine). */
    static final String CUDA_IPC_OPTION = "cudaIpc";

    /** Usage errors, found before anything touches a GPU. */
    void validate() {
        if (cudaIpc == CudaIpcMode.BOTH && !peerProcess) {
            throw new IllegalArgumentException("--cuda-ipc both needs --peer-process: the engine's CUDA IPC path only "
                    + "applies between processes");
        }
        if (baselineBinary != null && (!peerProcess || provider.startsWith("loopback") || provider.equals("efa"))) {
            throw new IllegalArgumentException("--baseline-binary runs fi_write_bench -P -D cuda (two processes, GPU "
                    + "to GPU, straight over libfabric): it needs --peer-process and a libfabric provider it can run "
                    + "(--provider shm)");
        }
    }

    /** The baseline's settings: the engine's libfabric provider and node, FI_HMEM, two processes, device memory. */
    NativeBaseline.Settings baselineSettings() {
        String deliveryComplete = options.get("libfabric.deliveryComplete");
        // The engine's automatic choice: on for socket providers (tcp), off for shm (LibfabricSettings).
        boolean dc = CompareCommand.flag("libfabric.deliveryComplete", deliveryComplete,
                !provider.equals("shm"));
        return new NativeBaseline.Settings(provider, options.get("libfabric.node"), dc, true,
                baselineIdle == CompareCommand.BaselineIdle.YIELD, false, true, device);
    }

    /** LD_PRELOAD of the libfabric the engine is pointed at, if it is. */
    Map<String, String> baselineEnvironment() {
        return NativeBaseline.environmentFor(options);
    }

    @Override
    public Integer call() {
        validate();
        NativeBaseline baseline = baselineBinary == null ? null : NativeBaseline.prebuilt(baselineBinary);
        if (!Cuda.isAvailable()) {
            throw new BenchFailure("no usable GPU: " + Cuda.unavailabilityCause().getMessage(), null);
        }
        PrintWriter out = spec.commandLine().getOut();
        DeviceBackend backend = new CudaDeviceBackend();
        long pageBytes = ByteSize.parse(page);
        List<Long> sizeList = ByteSize.parseList(sizes);
        long maxSize = sizeList.stream().mapToLong(Long::longValue).max().orElseThrow();
        long spreadBytes = ByteSize.parse(spread);
        long deviceBytes = Math.max(maxSize, spreadBytes);
        out.printf(Locale.ROOT, "transfer-bench gpu: %s, device %d (%s), provider %s %s, window %d, cuda-ipc %s%n",
                Runtime.version(), device, Cuda.deviceName(device), provider, options, window,
                cudaIpc.name().toLowerCase(Locale.ROOT));
        NativeBaseline.Settings baselineSettings = baseline == null ? null : baselineSettings();
        Map<String, String> baselineEnvironment = baseline == null ? Map.of() : baselineEnvironment();
        if (baseline != null) {
            out.println("native baseline: " + (baselineEnvironment.isEmpty() ? "" : baselineEnvironment + " ")
                    + baseline.binary() + " " + String.join(" ", baselineSettings.flags()) + " (rates in GB/s here;"
                    + " its own output is Gbps)");
        }
        out.printf(Locale.ROOT, "%-8s %-34s %12s %12s %7s%n", "size", "row", "engine GB/s", "ref GB/s", "ratio");
        List<String> failures = new ArrayList<>();
        try (CudaDeviceMemory src = CudaDeviceMemory.allocate(device, deviceBytes);
             CudaDeviceMemory dst = CudaDeviceMemory.allocate(device, deviceBytes);
             PinnedBuffer hostSrc = new PinnedBuffer(backend, maxSize);
             PinnedBuffer hostDst = new PinnedBuffer(backend, maxSize);
             TransferEngine a = engine(backend, "gpu-a", true, cudaIpc == CudaIpcMode.OFF);
             TransferEngine noIpc = cudaIpc == CudaIpcMode.BOTH ? engine(backend, "gpu-a-no-ipc", true, true) : null;
             TransferEngine b = engine(backend, "gpu-b", true, cudaIpc == CudaIpcMode.OFF);
             TransferEngine staged = rows.contains("staged") ? engine(backend, "gpu-staged", false, false) : null;
             DeviceCopyQueue stream = backend.openCopyQueue(device)) {
            src.fill((byte) 7);
            MemoryRegion devSrc = a.registerDevice(src.address(), deviceBytes, device, Access.LOCAL);
            RemoteRegion devDst0 = b.registerDevice(dst.address(), deviceBytes, device, Access.REMOTE_WRITE)
                    .descriptor();
            MemoryRegion pinnedSrc = a.register(hostSrc.segment, Access.LOCAL);
            MemoryRegion noIpcDevSrc = noIpc == null ? null : noIpc.registerDevice(src.address(), deviceBytes, device,
                    Access.LOCAL);
            MemoryRegion noIpcPinnedSrc = noIpc == null ? null : noIpc.register(hostSrc.segment, Access.LOCAL);
            RemoteRegion pinnedDst = b.register(hostDst.segment, Access.REMOTE_WRITE).descriptor();
            MemoryRegion stagedSrc = staged == null ? null
                    : staged.registerDevice(src.address(), deviceBytes, device, Access.LOCAL);
            MemoryRegion stagedHostSrc = staged == null ? null : staged.register(hostSrc.segment, Access.LOCAL);
            PeerProcess peer = peerProcess ? startPeer(deviceBytes) : null;
            Receiver imms = peer != null ? peer : new LocalReceiver(b.immCounter(IMM));
            RemoteRegion devDst = peer != null ? peer.region : devDst0;
            if (peer != null) {
                out.println("destination: GPU memory of a second process (gpu-target, pid " + peer.pid()
                        + "); rows d2h and staged need a host target and are left out");
            }
            for (long size : sizeList) {
                int n = iterations(size);
                long slots = Math.max(1, spreadBytes / size); // successive offsets of --spread, or offset 0
                double refD2D = reference(stream, dst.address(), src.address(), size, n, slots);
                double refH2D = reference(stream, dst.address(), hostSrc.segment.address(), size, n);
                double refD2H = reference(stream, hostDst.segment.address(), src.address(), size, n);
                double d2d = Double.NaN;
                double d2dNoIpc = Double.NaN;
                if (rows.contains("d2d")) {
                    d2d = rate(a, imms, n, size,
                            i -> SingleWrite.withImm(devSrc, i % slots * size, size, devDst, i % slots * size, IMM)
                                    .routed(Routing.pinned(0)));
                    row(out, size, "single write GPU->GPU", d2d, refD2D);
                    if (noIpc != null) {
                        d2dNoIpc = rate(noIpc, imms, n, size, i -> SingleWrite.withImm(noIpcDevSrc, i % slots * size,
                                size, devDst, i % slots * size, IMM).routed(Routing.pinned(0)));
                        row(out, size, NO_IPC_ROW, d2dNoIpc, refD2D);
                    }
                }
                if (rows.contains("paged") && size >= pageBytes) {
                    int pages = (int) (size / pageBytes);
                    int[] idx = new int[pages];
                    int[] dstIdx = new int[pages];
                    for (int p = 0; p < pages; p++) {
                        idx[p] = p;
                        dstIdx[p] = pageOrder == PageOrder.REVERSED ? pages - 1 - p : p;
                    }
                    PagedWrite pw = new PagedWrite(pageBytes, devSrc, idx, pageBytes, 0, devDst, dstIdx, pageBytes, 0,
                            OptionalInt.of(IMM));
                    // The reference for pages: the same page copies, one cuMemcpyAsync each, back to back.
                    double refPages = reference(stream, dst.address(), src.address(), pageBytes, n * pages);
                    row(out, size, "paged " + ByteSize.format(pageBytes) + (pageOrder == PageOrder.REVERSED
                                    ? " reversed" : "") + " pages GPU->GPU",
                            rate(a, imms, Math.max(1, n), size, pages, i -> pw), refPages);
                    if (noIpc != null) {
                        PagedWrite pwNoIpc = new PagedWrite(pageBytes, noIpcDevSrc, idx, pageBytes, 0, devDst,
                                dstIdx, pageBytes, 0, OptionalInt.of(IMM));
                        row(out, size, NO_IPC_ROW, rate(noIpc, imms, Math.max(1, n), size, pages, i -> pwNoIpc),
                                refPages);
                    }
                }
                if (rows.contains("h2d")) {
                    row(out, size, "single write pinned host->GPU", rate(a, imms, n, size,
                            i -> SingleWrite.withImm(pinnedSrc, 0, size, devDst, 0, IMM).routed(Routing.pinned(0))),
                            refH2D);
                    if (noIpc != null) {
                        row(out, size, NO_IPC_ROW, rate(noIpc, imms, n, size, i -> SingleWrite.withImm(noIpcPinnedSrc,
                                0, size, devDst, 0, IMM).routed(Routing.pinned(0))), refH2D);
                    }
                }
                if (baseline != null) {
                    // The same writes straight over libfabric, two processes, GPU to GPU: count, warm-up, window.
                    try {
                        RateSample c = baseline.run(baselineSettings, size, Math.min(n, window * 2), n, window,
                                BASELINE_TIMEOUT, baselineEnvironment);
                        double nativeRate = gigabytesPerSecond(c);
                        row(out, size, NATIVE_ROW, nativeRate, refD2D);
                        if (!Double.isNaN(d2d)) {
                            row(out, size, cudaIpc == CudaIpcMode.OFF ? "  engine cudaIpc=false / native"
                                    : "  engine IPC path / native", d2d, nativeRate);
                        }
                        if (!Double.isNaN(d2dNoIpc)) {
                            row(out, size, "  engine cudaIpc=false / native", d2dNoIpc, nativeRate);
                        }
                    } catch (BenchFailure e) {
                        // The engine's rows go on; the run's exit status says that the baseline failed.
                        out.println("native baseline failed, not run again: " + e.getMessage());
                        out.flush();
                        failures.add(e.getMessage());
                        baseline = null;
                    }
                }
                if (rows.contains("d2h") && peer == null) {
                    row(out, size, "single write GPU->pinned host", rate(a, imms, n, size,
                            i -> SingleWrite.withImm(devSrc, 0, size, pinnedDst, 0, IMM).routed(Routing.pinned(0))),
                            refD2H);
                }
                if (staged != null && peer == null) {
                    double stagedRate = rate(staged, imms, n, size,
                            i -> SingleWrite.withImm(stagedSrc, 0, size, pinnedDst, 0, IMM).routed(Routing.pinned(0)));
                    row(out, size, "staged GPU->pinned host", stagedRate, refD2H);
                    // A staged write is two hops in a pipeline: the device-to-host copy into a bounce slot, then
                    // the NIC's write from it. Its bound is the slower hop, measured here: the same engine writing
                    // from pinned host memory is the second hop alone (on loopback a CPU memcpy).
                    double secondHop = rate(staged, imms, n, size,
                            i -> SingleWrite.withImm(stagedHostSrc, 0, size, pinnedDst, 0, IMM)
                                    .routed(Routing.pinned(0)));
                    row(out, size, "  its 2nd hop: pinned host->host", secondHop, secondHop);
                    row(out, size, "  staged vs slower hop", stagedRate, Math.min(refD2H, secondHop));
                }
                out.flush();
            }
            if (signalRounds > 0 && peer == null) {
                signalLatency(out, a, b, devDst);
            }
            if (peer != null) {
                peer.close();
            }
        } catch (java.io.IOException e) {
            throw new BenchFailure("could not start the gpu-target process", e);
        }
        return failures.isEmpty() ? 0 : 1;
    }

    @Option(names = "--spin", description = "workers spin instead of backing off (both processes)")
    boolean spin;

    @Option(names = "--peer-process", description = "write into GPU memory of a second process on this host")
    boolean peerProcess;

    private PeerProcess startPeer(long bytes) throws java.io.IOException {
        List<String> args = new ArrayList<>(List.of("gpu-target", "--device", Integer.toString(device), "--provider",
                provider, "--bytes", Long.toString(bytes), "--imm", Integer.toString(IMM)));
        if (spin) {
            args.add("--spin");
        }
        options.forEach((k, v) -> args.addAll(List.of("--option", k + "=" + v)));
        if (cudaIpc == CudaIpcMode.OFF) {
            // No share in the child's descriptor either: every write goes through the provider.
            args.addAll(List.of("--option", CUDA_IPC_OPTION + "=false"));
        }
        return new PeerProcess(BenchChild.start("gpu-target", args));
    }

    @Option(names = "--signal-rounds", description = "GPU-signalled submits to time (0 = none; default ${DEFAULT-VALUE})")
    int signalRounds = 2000;

    /**
     * The reference's UVM watcher path: a stream sets a word in pinned host memory ({@code cuStreamWriteValue64});
     * the watcher's action submits a prepared imm-only write. Times, per round, from just before the stream call
     * to (a) the submit having returned on the watcher thread and (b) the receiver having counted the imm.
     */
    private void signalLatency(PrintWriter out, TransferEngine a, TransferEngine b, RemoteRegion destination) {
        int imm = IMM + 1;
        ImmCounter arrived = b.immCounter(imm);
        dev.transferengine.api.ImmWrite write = dev.transferengine.api.ImmWrite.of(destination, imm);
        TransferCounter done = new TransferCounter();
        long[] submitted = new long[signalRounds];
        long[] landed = new long[signalRounds];
        try (dev.transferengine.cuda.GpuSignalWatcher watcher = dev.transferengine.cuda.GpuSignalWatcher.create(1);
             dev.transferengine.cuda.CudaStream stream = dev.transferengine.cuda.CudaStream.create(device)) {
            var signal = watcher.newSignal();
            int warm = Math.min(200, signalRounds);
            for (int round = -warm; round < signalRounds; round++) {
                final int r = round;
                long target = round + warm + 1;
                java.util.concurrent.atomic.AtomicLong at = new java.util.concurrent.atomic.AtomicLong();
                watcher.watch(signal, target, () -> {
                    a.submit(write, done);
                    at.set(System.nanoTime());
                });
                long t0 = System.nanoTime();
                stream.writeValue64(signal.deviceAddress(), target);
                long want = target;
                while (arrived.arrived() < want) {
                    Thread.onSpinWait();
                }
                long t2 = System.nanoTime();
                while (at.get() == 0) {
                    Thread.onSpinWait();
                }
                if (r >= 0) {
                    submitted[r] = at.get() - t0;
                    landed[r] = t2 - t0;
                }
            }
            done.await(signalRounds + warm, timeout);
        }
        java.util.Arrays.sort(submitted);
        java.util.Arrays.sort(landed);
        out.printf(Locale.ROOT, "GPU signal -> prepared write submitted: p50 %.1f us, p99 %.1f us; -> imm counted at the"
                        + " receiver: p50 %.1f us, p99 %.1f us (%d rounds)%n",
                submitted[signalRounds / 2] / 1e3, submitted[signalRounds * 99 / 100] / 1e3,
                landed[signalRounds / 2] / 1e3, landed[signalRounds * 99 / 100] / 1e3, signalRounds);
        out.flush();
    }

    private TransferEngine engine(DeviceBackend backend, String name, boolean deviceMemory, boolean withoutCudaIpc) {
        TransferEngine.Builder builder = TransferEngine.builder().name(name).provider(provider.startsWith("loopback")
                        ? "loopback" : "libfabric")
                .addGroup(GroupSpec.ofNics(1).withCudaDevice(device)).deviceBackend(backend)
                .transferTimeout(timeout).operationTimeout(timeout)
                .idleStrategy(spin ? dev.transferengine.api.IdleStrategy::busySpin
                        : dev.transferengine.api.IdleStrategy::backoff);
        if (!provider.equals("loopback")) {
            builder.providerOption("libfabric.provider", provider);
        }
        if (!provider.equals("loopback") && !peerProcess) {
            // Both engines in this process: shm's CUDA IPC cannot open a handle of its own process.
            builder.providerOption("libfabric.hmemDeviceOnly", "false");
        }
        options.forEach(builder::providerOption);
        if (withoutCudaIpc) {
            builder.providerOption(CUDA_IPC_OPTION, "false");
        }
        if (!deviceMemory) {
            if (provider.equals("loopback")) {
                builder.providerOption("loopback.deviceMemory", "false");
            } else {
                builder.providerOption("libfabric.hmem", "false");
            }
        }
        return builder.build();
    }

    private int iterations(long size) {
        long budget = ByteSize.parse(bytesPerRow);
        return (int) Math.max(window * 2L, Math.min(maxIterations, budget / size));
    }

    /** Where the imms of a row are counted: an engine of this process, or the child of {@code --peer-process}. */
    private abstract static class Receiver {
        /** Imms the rows so far produced at this receiver (each row waits for all of them). */
        long issued;

        abstract void awaitTotal(long total, long deadline);
    }

    private static final class LocalReceiver extends Receiver {
        private final ImmCounter counter;

        LocalReceiver(ImmCounter counter) {
            this.counter = counter;
        }

        @Override
        void awaitTotal(long total, long deadline) {
            while (counter.arrived() < total) {
                spin(deadline);
            }
        }
    }

    /** The receiving child process: a line protocol over its stdin/stdout ({@link GpuTargetCommand}). */
    private static final class PeerProcess extends Receiver implements AutoCloseable {
        private static final Duration START = Duration.ofSeconds(120);
        final BenchChild child;
        final dev.transferengine.api.DomainAddress address;
        final RemoteRegion region;

        PeerProcess(BenchChild child) {
            this.child = child;
            String ready = child.answer(START);
            if (!ready.startsWith("READY ")) {
                throw new BenchFailure("the gpu-target process did not start: " + ready, null);
            }
            String[] w = ready.split(" ");
            address = dev.transferengine.api.DomainAddress.fromHex(w[1].substring("addr=".length()));
            region = RemoteRegion.fromHex(w[2].substring("region=".length()));
        }

        long pid() {
            return child.pid();
        }

        @Override
        void awaitTotal(long total, long deadline) {
            child.send("COUNT " + total);
            String answer = child.answer(START);
            if (!answer.startsWith("COUNTED")) {
                throw new BenchFailure("the gpu-target process answered " + answer, null);
            }
        }

        @Override
        public void close() {
            child.send("QUIT");
            child.close();
        }
    }

    private double rate(TransferEngine sender, Receiver imms, int n, long size, LongFunction<TransferRequest> request) {
        return rate(sender, imms, n, size, 1, request);
    }

    /** Warm-up, then {@code n} requests with {@code window} in flight, timed until every imm was counted. */
    private double rate(TransferEngine sender, Receiver imms, int n, long size, int immsPerRequest,
                        LongFunction<TransferRequest> request) {
        run(sender, imms, Math.min(n, window * 2), immsPerRequest, request);
        long t0 = System.nanoTime();
        run(sender, imms, n, immsPerRequest, request);
        long nanos = System.nanoTime() - t0;
        return (double) n * size / nanos;
    }

    private void run(TransferEngine sender, Receiver imms, int n, int immsPerRequest,
                     LongFunction<TransferRequest> request) {
        TransferCounter done = new TransferCounter();
        long deadline = System.nanoTime() + timeout.toNanos();
        long want = imms.issued + (long) n * immsPerRequest;
        imms.issued = want;
        for (int i = 0; i < n; i++) {
            // Spin for window space, like the reference spins on its events: a parked submitter would time
            // its own wake-ups, not the engine.
            while (done.completed() < i - window + 1) {
                spin(deadline);
            }
            sender.submit(request.apply(i), done);
        }
        while (done.completed() < n) {
            spin(deadline);
        }
        done.throwIfFailed();
        imms.awaitTotal(want, deadline);
    }

    private static void spin(long deadline) {
        if (System.nanoTime() - deadline > 0) {
            throw new BenchFailure("a GPU row did not finish within its deadline", null);
        }
        Thread.onSpinWait();
    }

    /** {@code n} back-to-back copies on one stream; GB/s from the first queued to the last done. */
    private static double reference(DeviceCopyQueue stream, long dst, long src, long size, int n) {
        return reference(stream, dst, src, size, n, 1);
    }

    /** Back-to-back copies on one stream, copy {@code i} at offset {@code (i % slots) * size} on both sides. */
    private static double reference(DeviceCopyQueue stream, long dst, long src, long size, int n, long slots) {
        copies(stream, dst, src, size, Math.min(n, 64), slots);
        long t0 = System.nanoTime();
        copies(stream, dst, src, size, n, slots);
        return (double) n * size / (System.nanoTime() - t0);
    }

    private static void copies(DeviceCopyQueue stream, long dst, long src, long size, int n, long slots) {
        long last = 0;
        for (int i = 0; i < n; i++) {
            long t;
            long offset = i % slots * size;
            while ((t = stream.copy(dst + offset, src + offset, size)) == DeviceCopyQueue.FULL) {
                Thread.onSpinWait();
                stream.isDone(last);
            }
            last = t;
        }
        while (!stream.isDone(last)) {
            Thread.onSpinWait();
        }
    }

    /** The row of an engine with cudaIpc=false, after the same row of the engine with its IPC path. */
    static final String NO_IPC_ROW = "  same, cudaIpc=false";
    /** The native baseline's row: its GB/s against the device copy of the same size. */
    static final String NATIVE_ROW = "native fi_write_bench -P -D cuda";

    /** The baseline's rate in the table's unit, GB/s (10^9 bytes; fi_write_bench prints Gbps, 8 times that). */
    static double gigabytesPerSecond(RateSample sample) {
        return sample.gbps() / 8;
    }

    private static void row(PrintWriter out, long size, String name, double engine, double reference) {
        out.printf(Locale.ROOT, "%-8s %-34s %12.1f %12.1f %7.2f%n", ByteSize.format(size), name, engine, reference,
                engine / reference);
        out.flush();
    }

    /** Pinned host memory from the device backend, freed on close. */
    private static final class PinnedBuffer implements AutoCloseable {
        final MemorySegment segment;
        private final DeviceBackend backend;

        PinnedBuffer(DeviceBackend backend, long bytes) {
            this.backend = backend;
            this.segment = backend.allocatePinnedHost(bytes);
        }

        @Override
        public void close() {
            backend.freePinnedHost(segment);
        }
    }
}
