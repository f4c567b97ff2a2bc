package dev.transferengine.testing;

import dev.transferengine.spi.DeviceBackend;

import java.lang.foreign.MemorySegment;

/**
 * What device-memory tests need from a GPU (or from its host-memory double): a backend for the engine, and
 * a way to allocate device memory and move test patterns in and out of it.
 *
 * @param backend   the backend the engines are built with
 * @param allocator allocation and host copies for the test itself
 * @param ordinal   the device the tests use
 */
public record TestDevice(DeviceBackend backend, Allocator allocator, int ordinal) {

    /** Device memory for tests. */
    public interface Allocator {
        long allocate(int ordinal, long bytes);

        void free(long base);

        /** Copies all of {@code host} to device memory at {@code deviceAddress} (synchronous). */
        void upload(long deviceAddress, MemorySegment host);

        /** Fills all of {@code host} from device memory at {@code deviceAddress} (synchronous). */
        void download(long deviceAddress, MemorySegment host);
    }

    /** The host-memory double with one device. */
    public static TestDevice hostDouble() {
        HostDeviceBackend b = new HostDeviceBackend(1);
        return new TestDevice(b, b, 0);
    }
}
