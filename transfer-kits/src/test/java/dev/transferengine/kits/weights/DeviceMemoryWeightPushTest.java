package dev.transferengine.kits.weights;

import dev.transferengine.api.Access;
import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.testing.TestDevice;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The inference ranks' weights in device memory (the engine's host-memory device double, loopback registering
 * device memory itself, reordered): the training ranks write straight into it, and each inference rank's bytes,
 * read back from the device, are what the schedule says.
 */
class DeviceMemoryWeightPushTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void trainingRanksWriteStraightIntoInferenceDeviceMemory() throws Exception {
        TestDevice device = device();
        WeightSchedule schedule = WeightPlanner.plan(WeightShapes.mixed(), 2, 2);
        List<AutoCloseable> closeables = new ArrayList<>();
        List<Long> pointers = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            try {
                List<RemoteRegion> descriptors = new ArrayList<>();
                List<WeightReceiver> receivers = new ArrayList<>();
                for (int d = 0; d < 2; d++) {
                    TransferEngine e = TransferEngine.builder().provider("loopback").name("wgpu" + d)
                            .providerOption("loopback.reorder", "true")
                            .addGroup(GroupSpec.ofNics(1).withCudaDevice(device.ordinal()))
                            .deviceBackend(device.backend()).build();
                    closeables.add(e);
                    long ptr = device.allocator().allocate(device.ordinal(), schedule.destinationBufferBytes(d));
                    pointers.add(ptr);
                    MemoryRegion r = e.registerDevice(ptr, schedule.destinationBufferBytes(d), device.ordinal(),
                            Access.REMOTE_WRITE);
                    descriptors.add(r.descriptor());
                    WeightReceiver receiver = new WeightReceiver(e, schedule, d, r, WeightPushContract.IMM, 1);
                    closeables.add(receiver);
                    receivers.add(receiver);
                }
                for (int s = 0; s < 2; s++) {
                    TransferEngine e = TransferEngine.builder().provider("loopback").name("wsrc" + s)
                            .providerOption("loopback.reorder", "true").build();
                    closeables.add(e);
                    WeightPusher p = new WeightPusher(e, schedule, s, descriptors, 1 << 20, WeightPushContract.IMM,
                            SyntheticWeights::fillShard, WAIT);
                    closeables.add(p);
                    p.push();
                }
                for (int d = 0; d < 2; d++) {
                    receivers.get(d).awaitStep(WAIT);
                    assertEquals(receivers.get(d).immsPerStep(), receivers.get(d).immsArrived());
                    MemorySegment copy = arena.allocate(schedule.destinationBufferBytes(d));
                    device.allocator().download(pointers.get(d), copy);
                    assertEquals(-1, SyntheticWeights.firstMismatch(schedule, d, copy, 0), "inference rank " + d);
                }
            } finally {
                for (int i = closeables.size() - 1; i >= 0; i--) {
                    closeables.get(i).close();
                }
                for (long p : pointers) {
                    device.allocator().free(p);
                }
            }
        }
    }

    /** The GPU the inference ranks' weights live on: the host-memory double here, a real one in the GPU suite. */
    protected TestDevice device() {
        return TestDevice.hostDouble();
    }
}
