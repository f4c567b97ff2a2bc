package dev.transferengine.core.loopback;

import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceCopyQueue;

import java.util.ArrayList;
import java.util.List;

/**
 * The copy queues (CUDA streams) one loopback domain uses for writes that touch device memory, one per
 * (backend, device), opened lazily on the domain's worker thread and closed with the domain. A copy runs on
 * the source device's queue, or the destination's when the source is host memory.
 */
final class DeviceCopies {
    private final List<DeviceBackend> backends = new ArrayList<>();
    private final List<DeviceCopyQueue> queues = new ArrayList<>();
    private final List<Integer> ordinals = new ArrayList<>();

    /** The queue for {@code ordinal} of {@code backend}, opened on first use. */
    DeviceCopyQueue queue(DeviceBackend backend, int ordinal) {
        for (int i = 0; i < queues.size(); i++) {
            if (backends.get(i) == backend && ordinals.get(i) == ordinal) {
                return queues.get(i);
            }
        }
        DeviceCopyQueue q = backend.openCopyQueue(ordinal);
        backends.add(backend);
        ordinals.add(ordinal);
        queues.add(q);
        return q;
    }

    /** Waits (bounded, by each queue) for copies in flight, then frees the queues. */
    void close() {
        for (DeviceCopyQueue q : queues) {
            try {
                q.close();
            } catch (RuntimeException e) {
                System.getLogger(DeviceCopies.class.getName()).log(System.Logger.Level.WARNING,
                        "closing a device copy queue failed", e);
            }
        }
        queues.clear();
        backends.clear();
        ordinals.clear();
    }
}
