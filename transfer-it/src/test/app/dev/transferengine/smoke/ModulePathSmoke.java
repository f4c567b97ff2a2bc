package dev.transferengine.smoke;

import dev.transferengine.api.Access;
import dev.transferengine.api.Imm;
import dev.transferengine.api.ImmAccounting;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One write with an imm between two engines of the provider named by {@code args[0]}, as the README's
 * example does it, run on the module path by {@code ModulePathSmokeTest}. Prints what it checked; exits 0
 * when the bytes landed, 1 when they did not, 77 when the provider is unavailable on this machine.
 */
public final class ModulePathSmoke {
    static final int IMM = 0xDEADBEEF;
    static final int LENGTH = 64 << 10;
    static final int UNAVAILABLE = 77;

    private ModulePathSmoke() {
    }

    public static void main(String[] args) throws Exception {
        String provider = args[0];
        try (Arena arena = Arena.ofShared();
             TransferEngine receiver = TransferEngine.builder().provider(provider).groups(1, 2).build();
             TransferEngine sender = TransferEngine.builder().provider(provider).groups(1, 2).build()) {
            MemoryRegion dst = receiver.register(arena.allocate(LENGTH, 4096), Access.REMOTE_WRITE);
            ImmCounter landed = receiver.immCounter(IMM);
            MemoryRegion src = sender.register(arena.allocate(LENGTH, 4096), Access.LOCAL);
            for (int i = 0; i < LENGTH; i++) {
                src.segment().set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + 7));
            }
            SingleWrite write = SingleWrite.withImm(src, 0, LENGTH, RemoteRegion.fromHex(dst.descriptor().toHex()), 0, IMM);
            sender.submit(write).get(30, TimeUnit.SECONDS);
            long imms = ImmAccounting.immsProduced(write, sender.nicCount(0));
            landed.await(imms, Duration.ofSeconds(30));
            long mismatch = src.segment().mismatch(dst.segment());
            System.out.println("engine module: " + sender.getClass().getModule().getName());
            System.out.println("api module: " + TransferEngine.class.getModule().getName());
            System.out.println("provider modules: " + ModuleLayer.boot().modules().stream()
                    .map(Module::getName).filter(n -> n.startsWith("dev.transferengine.")).sorted().toList());
            if (mismatch != -1) {
                System.out.println("FAILED: first wrong byte at offset " + mismatch);
                System.exit(1);
            }
            System.out.println("landed " + LENGTH + " bytes with " + imms + " imms of " + Imm.toUnsignedString(IMM));
        } catch (ProviderUnavailableException e) {
            // A provider that may not call native code reports itself unavailable: that is a failure here.
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof IllegalCallerException) {
                    System.out.println("FAILED: native access refused: " + t);
                    System.exit(1);
                }
            }
            System.out.println("unavailable: " + e.getMessage());
            System.exit(UNAVAILABLE);
        }
    }
}
