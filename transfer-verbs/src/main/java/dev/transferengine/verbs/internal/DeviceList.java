package dev.transferengine.verbs.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The result of {@code ibv_get_device_list}: the RDMA devices of this machine. Owns the list; devices stay
 * valid until {@link #close()} (open contexts must be closed first). Not thread-safe.
 */
public final class DeviceList implements AutoCloseable {
    private static final long IBDEV_PATH = IbvLayouts.offset(IbvLayouts.IBV_DEVICE, "ibdev_path");

    /** One {@code struct ibv_device}. */
    public record Device(MemorySegment pointer, String name, String ibdevPath) {
    }

    private MemorySegment list;
    private final List<Device> devices;
    private final int errno;

    private DeviceList(MemorySegment list, List<Device> devices, int errno) {
        this.list = list;
        this.devices = devices;
        this.errno = errno;
    }

    /**
     * Lists the devices. libibverbs answers NULL with errno ENOSYS when the kernel has no RDMA support (no
     * {@code /sys/class/infiniband_verbs}): that is "no devices", reported through {@link #errno()}.
     */
    public static DeviceList open() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(VerbsLibrary.CALL_STATE);
            MemorySegment count = arena.allocate(JAVA_INT);
            MemorySegment list = (MemorySegment) VerbsLibrary.GET_DEVICE_LIST.invokeExact(state, count);
            if (list.address() == 0) {
                return new DeviceList(MemorySegment.NULL, List.of(), VerbsLibrary.errno(state));
            }
            int n = count.get(JAVA_INT, 0);
            MemorySegment array = list.reinterpret(ADDRESS.byteSize() * (n + 1L));
            List<Device> devices = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                MemorySegment dev = array.getAtIndex(ADDRESS, i).reinterpret(IbvLayouts.IBV_DEVICE.byteSize());
                MemorySegment name = (MemorySegment) VerbsLibrary.GET_DEVICE_NAME.invokeExact(dev);
                devices.add(new Device(dev, name.reinterpret(64).getString(0), dev.getString(IBDEV_PATH)));
            }
            return new DeviceList(list, List.copyOf(devices), 0);
        } catch (Throwable t) {
            throw NativeErrors.unexpected("ibv_get_device_list", t);
        }
    }

    /** The devices, in libibverbs' order. */
    public List<Device> devices() {
        return devices;
    }

    /** The errno of a NULL answer (ENOSYS: no kernel RDMA support), 0 when the list was returned. */
    public int errno() {
        return errno;
    }

    /** Frees the list. Idempotent. */
    @Override
    public void close() {
        MemorySegment l = list;
        list = MemorySegment.NULL;
        if (l.address() != 0) {
            try {
                VerbsLibrary.FREE_DEVICE_LIST.invokeExact(l);
            } catch (Throwable t) {
                throw NativeErrors.unexpected("ibv_free_device_list", t);
            }
        }
    }
}
