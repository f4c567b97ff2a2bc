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
 * Decoder caches and contexts in GPU memory (core's host-memory device double) on loopback, with NICs that
 * register device memory and with host-only NICs, where peers write into a pinned host shadow and the decoder
 * flushes every requested page to the GPU before the transfer completes.
 */
class DeviceMemoryKvHandOffTest {
    private static final KvLayout LAYOUT = KvHandOffSuite.LAYOUT;

    @ParameterizedTest(name = "NICs register device memory: {0}")
    @ValueSource(booleans = {true, false})
    void aDecoderCacheInGpuMemoryHoldsEveryByteAfterCompletion(boolean nicsRegisterDeviceMemory) {
        TestDevice device = TestDevice.hostDouble();
        List<TransferEngine> engines = new ArrayList<>();
        List<Long> allocations = new ArrayList<>();
        try (KvRig prefill = new KvRig(name -> TransferEngine.builder().name(name).build(), LAYOUT, 2, 0,
                KvHandOffSuite.CAPACITY, KvHandOffSuite.CHUNK_TOKENS, KvDecoder.Options.defaults());
             Arena arena = Arena.ofConfined()) {
            List<KvDecoder.Rank> ranks = new ArrayList<>();
            long kvBytes = KvCache.requiredBytes(LAYOUT, 2, KvHandOffSuite.CAPACITY);
            for (int d = 0; d < 2; d++) {
                TransferEngine e = TransferEngine.builder().name("kv-gpu-decode-" + d)
                        .providerOption("loopback.deviceMemory", Boolean.toString(nicsRegisterDeviceMemory))
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
                assertEquals(!nicsRegisterDeviceMemory, kvRegion.isStaged());
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
        }
    }
}
