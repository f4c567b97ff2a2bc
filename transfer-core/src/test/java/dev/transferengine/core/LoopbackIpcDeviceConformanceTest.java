package dev.transferengine.core;

import dev.transferengine.api.Access;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.conformance.DeviceMemoryConformanceSuite;
import dev.transferengine.testing.HostDeviceBackend;
import dev.transferengine.testing.TestDevice;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same-host GPU path (descriptors carry a CUDA IPC share; writers copy on their stream and send only the
 * imm through the NIC) on loopback with the host-memory device double, whose "IPC" opens handles of its own
 * JVM (real CUDA refuses those, so on a GPU this path runs between processes: {@code TwoProcessGpuTest}).
 * The whole device suite runs with the path on, plus what only it needs: that it is taken, and that a stale
 * descriptor is refused before any byte is copied.
 */
class LoopbackIpcDeviceConformanceTest extends DeviceMemoryConformanceSuite {
    private final HostDeviceBackend backend = new HostDeviceBackend(1);

    @Override
    protected TransferEngine.Builder newEngineBuilder() {
        return TransferEngine.builder().provider("loopback").providerOption("loopback.reorder", "true");
    }

    @Override
    protected TestDevice device() {
        return new TestDevice(backend, backend, 0);
    }

    @Override
    protected boolean directDeviceTargets() {
        return true;
    }

    private TransferEngine engine(String name) {
        return TransferEngine.builder().provider("loopback").name(name).deviceBackend(backend)
                .addGroup(GroupSpec.ofNics(2).withCudaDevice(0)).operationTimeout(Duration.ofSeconds(10))
                .transferTimeout(Duration.ofSeconds(10)).build();
    }

    @Test
    void writesTakeTheIpcPathAndStaleDescriptorsAreRefusedUntouched() throws Exception {
        long len = 1 << 20;
        long src = backend.allocate(0, len);
        long dst = backend.allocate(0, len);
        try (Arena arena = Arena.ofConfined(); TransferEngine a = engine("ipc-a"); TransferEngine b = engine("ipc-b")) {
            MemorySegment pattern = arena.allocate(len);
            for (long i = 0; i < len; i++) {
                pattern.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + 7));
            }
            backend.upload(src, pattern);
            backend.upload(dst, arena.allocate(len));
            MemoryRegion source = a.registerDevice(src, len, 0, Access.LOCAL);
            MemoryRegion target = b.registerDevice(dst, len, 0, Access.REMOTE_WRITE);
            RemoteRegion descriptor = RemoteRegion.fromHex(target.descriptor().toHex());
            assertNotNull(descriptor.deviceShare(), "a GPU region's descriptor carries its IPC share");
            int imm = 0x1FC;
            ImmCounter landed = b.immCounter(imm);
            SingleWrite w = SingleWrite.withImm(source, 0, len, descriptor, 0, imm);
            a.submit(w).get(10, TimeUnit.SECONDS);
            landed.await(2, Duration.ofSeconds(10)); // sharded over 2 NICs: 2 imms, as on the NIC path
            assertTrue(backend.ipcOpens.get() >= 1, "the handle was opened: the IPC path was taken");
            MemorySegment got = arena.allocate(len);
            backend.download(dst, got);
            assertArrayEquals(pattern.toArray(ValueLayout.JAVA_BYTE), got.toArray(ValueLayout.JAVA_BYTE));

            // Close the region, put new bytes in its memory, and write again with the old descriptor.
            target.close();
            MemorySegment reused = arena.allocate(len);
            reused.fill((byte) 0x5A);
            backend.upload(dst, reused);
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> a.submit(SingleWrite.withImm(source, 0, 4096, descriptor, 0, imm)).get(10, TimeUnit.SECONDS));
            TransferException cause = assertInstanceOf(TransferException.class, e.getCause());
            assertEquals(ErrorCategory.REMOTE_ACCESS, cause.category(), cause.toString());
            backend.download(dst, got);
            assertArrayEquals(reused.toArray(ValueLayout.JAVA_BYTE), got.toArray(ValueLayout.JAVA_BYTE),
                    "a stale descriptor changed no byte");
            assertEquals(2, landed.arrived(), "no imm for the refused write");
        } finally {
            backend.free(src);
            backend.free(dst);
        }
        assertEquals(0, backend.openIpcMappings(), "the writer unmapped every handle at close");
    }

    @Test
    void hostRegionsCarryNoShareAndTheOptionTurnsThePathOff() {
        try (Arena arena = Arena.ofConfined(); TransferEngine b = engine("ipc-host")) {
            assertNull(b.register(arena.allocate(4096), Access.REMOTE_WRITE).descriptor().deviceShare());
        }
        long dst = backend.allocate(0, 4096);
        try (TransferEngine off = TransferEngine.builder().provider("loopback").deviceBackend(backend)
                .providerOption("cudaIpc", "false").addGroup(GroupSpec.ofNics(1).withCudaDevice(0)).build()) {
            assertNull(off.registerDevice(dst, 4096, 0, Access.REMOTE_WRITE).descriptor().deviceShare());
        } finally {
            backend.free(dst);
        }
    }
}
