package dev.transferengine.bench.cli;

import dev.transferengine.api.Access;
import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.cuda.CudaDeviceMemory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code transfer-bench gpu-target} (started by {@code gpu --peer-process}, not by users): the other process
 * of the two-process GPU rows. Registers GPU memory, prints {@code @READY addr=<hex> region=<hex>}, then
 * answers {@code COUNT n} with {@code @COUNTED n} once {@code n} imms arrived in total, until {@code QUIT}.
 */
@Command(name = "gpu-target", hidden = true, description = "The receiving process of `gpu --peer-process`.")
public final class GpuTargetCommand implements Callable<Integer> {
    @Option(names = "--device")
    int device = 0;

    @Option(names = "--provider")
    String provider = "shm";

    @Option(names = "--option")
    Map<String, String> options = new LinkedHashMap<>();

    @Option(names = "--bytes")
    long bytes;

    @Option(names = "--imm")
    int imm;

    @Option(names = "--spin")
    boolean spin;

    @Override
    public Integer call() throws Exception {
        TransferEngine.Builder builder = TransferEngine.builder().name("gpu-target")
                .provider(provider.equals("loopback") ? "loopback" : "libfabric")
                .addGroup(GroupSpec.ofNics(1).withCudaDevice(device))
                .idleStrategy(spin ? dev.transferengine.api.IdleStrategy::busySpin
                        : dev.transferengine.api.IdleStrategy::backoff);
        if (!provider.equals("loopback")) {
            builder.providerOption("libfabric.provider", provider);
        }
        options.forEach(builder::providerOption);
        try (TransferEngine engine = builder.build();
             CudaDeviceMemory memory = CudaDeviceMemory.allocate(device, bytes)) {
            MemoryRegion region = engine.registerDevice(memory.address(), bytes, device, Access.REMOTE_WRITE);
            ImmCounter arrived = engine.immCounter(imm);
            System.out.println("@READY addr=" + engine.mainAddress().toHex() + " region=" + region.descriptor().toHex());
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
            for (String line = in.readLine(); line != null && !line.equals("QUIT"); line = in.readLine()) {
                long n = Long.parseLong(line.substring("COUNT ".length()).trim());
                long deadline = System.nanoTime() + 120_000_000_000L;
                while (arrived.arrived() < n && System.nanoTime() - deadline < 0) {
                    Thread.onSpinWait();
                }
                System.out.println((arrived.arrived() >= n ? "@COUNTED " : "@TIMEOUT ") + arrived.arrived());
                System.out.flush();
            }
        }
        return 0;
    }
}
