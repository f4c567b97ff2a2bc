package dev.transferengine.kits.kv;

import dev.transferengine.api.Access;
import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.testing.TestDevice;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Decoder caches and contexts in GPU memory (core's host-memory device double): on loopback NICs that register
 * device memory, and on host-only NICs (loopback, libfabric tcp and shm built without CUDA), where peers write
 * into a pinned host shadow and the decoder flushes every requested page to the GPU before the transfer completes.
 */
class DeviceMemoryKvHandOffTest {
    private static final KvLayout LAYOUT = KvHandOffSuite.LAYOUT;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"loopback-direct", "loopback-staged", "tcp", "shm"})
    void aDecoderCacheInGpuMemoryHoldsEveryByteAfterCompletion(String setup) {
        boolean loopback = setup.startsWith("loopback");
        if (!loopback) {
            KvProcesses.assumeLibfabric();
        }
        TestDevice device = device();
        List<TransferEngine> engines = new ArrayList<>();
        List<Long> allocations = new ArrayList<>();
        try (KvRig prefill = new KvRig(name -> builder(setup).name(name).build(), LAYOUT, 2, 0,
                KvHandOffSuite.CAPACITY, KvHandOffSuite.CHUNK_TOKENS, KvDecoder.Options.defaults());
             Arena arena = Arena.ofShared()) {
            List<KvDecoder.Rank> ranks = new ArrayList<>();
            long kvBytes = KvCache.requiredBytes(LAYOUT, 2, KvHandOffSuite.CAPACITY);
            for (int d = 0; d < 2; d++) {
                TransferEngine e = builder(setup).name("kv-gpu-decode-" + d)
                        .addGroup(GroupSpec.ofNics(1).withCudaDevice(device.ordinal()))
                        .deviceBackend(device.backend()).build();
                engines.add(e);
                long kv = device.allocator().allocate(device.ordinal(), kvBytes);
                long ctx = device.allocator().allocate(device.ordinal(), 2 * KvRig.CONTEXT_BYTES);
                allocations.add(kv);
                allocations.add(ctx);
                MemorySegment zeros = arena.allocate(kvBytes);
                device.allocator().upload(kv, zeros);
                device.allocator().upload(ctx, arena.allocate(2 * KvRig.CONTEXT_BYTES));
                MemoryRegion kvRegion = e.registerDevice(kv, kvBytes, device.ordinal(), Access.REMOTE_WRITE);
                Boolean staged = expectedStaged(setup);
                if (staged != null) {
                    assertEquals(staged, kvRegion.isStaged(), "staged");
                }
                ranks.add(new KvDecoder.Rank(e, new KvCache(LAYOUT, d, 2, kvRegion, KvHandOffSuite.CAPACITY),
                        e.registerDevice(ctx, 2 * KvRig.CONTEXT_BYTES, device.ordinal(), Access.REMOTE_WRITE)));
            }
            int[] pages = prefill.decoderPages(LAYOUT.pagesFor(KvHandOffSuite.TOKENS));
            try (KvDecoder decoder = new KvDecoder(ranks, KvDecoder.Options.defaults())) {
                KvTransfer t = decoder.requestPrefill(prefill.prefillAddresses(), KvHandOffSuite.TOKENS, pages,
                        KvHandOffSuite.CONTEXT_OFFSET, KvRig.CONTEXT_BYTES);
                prefill.prefillAll();
                t.await(KvHandOffSuite.WAIT);
            }
            for (int d = 0; d < 2; d++) {
                // Read the GPU memory back into a host copy with the same layout and check it there.
                MemorySegment host = arena.allocate(kvBytes);
                device.allocator().download(allocations.get(2 * d), host);
                MemoryRegion mirror = engines.get(d).register(host, Access.LOCAL);
                assertNull(KvPattern.firstMismatch(new KvCache(LAYOUT, d, 2, mirror, KvHandOffSuite.CAPACITY), pages,
                        KvRig.SEED, LAYOUT.layers()), "decoder rank " + d + "'s GPU cache");
                MemorySegment ctx = arena.allocate(2 * KvRig.CONTEXT_BYTES);
                device.allocator().download(allocations.get(2 * d + 1), ctx);
                for (long i = 0; i < KvRig.CONTEXT_BYTES; i++) {
                    assertEquals(KvRig.contextByte(d, i),
                            ctx.get(ValueLayout.JAVA_BYTE, KvHandOffSuite.CONTEXT_OFFSET + i), "context byte " + i);
                }
            }
        } finally {
            engines.forEach(TransferEngine::close);
            allocations.forEach(device.allocator()::free);
        }
    }

    /**
     * Whether the decoder's GPU region is staged (a pinned host shadow) in {@code setup}, or null where either is
     * right. With the double every libfabric provider is host-only.
     */
    protected Boolean expectedStaged(String setup) {
        return !setup.equals("loopback-direct");
    }

    /** The GPU the decoder ranks' memory lives on: the host-memory double here, a real one in the GPU suite. */
    protected TestDevice device() {
        return TestDevice.hostDouble();
    }

    private static TransferEngine.Builder builder(String setup) {
        return switch (setup) {
            case "loopback-direct" -> TransferEngine.builder().providerOption("loopback.deviceMemory", "true");
            case "loopback-staged" -> TransferEngine.builder().providerOption("loopback.deviceMemory", "false");
            default -> TransferEngine.builder().provider(setup);
        };
    }
}
