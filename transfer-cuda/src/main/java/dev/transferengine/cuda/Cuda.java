package dev.transferengine.cuda;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.cuda.internal.CudaConst;
import dev.transferengine.cuda.internal.CudaLibrary;
import dev.transferengine.cuda.internal.DriverCalls;
import dev.transferengine.cuda.internal.PrimaryContexts;

/**
 * The CUDA driver, for applications with no CUDA runtime of their own: whether it is usable here, and the
 * devices it sees. {@code libcuda.so.1} (or the file named by the system property {@code te.cuda.library}) is
 * loaded and probed ({@code cuInit(0)}, driver version, device count) on the first call to any method of
 * this module, once per process; where it is missing every entry point throws
 * {@link ProviderUnavailableException} carrying {@link #unavailabilityCause()}.
 *
 * <p>Every call that touches a device first makes that device's primary context current on the calling
 * thread (the context PyTorch and the CUDA runtime share). All methods are thread-safe.
 */
public final class Cuda {
    /** {@code CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT}. */
    public static final int ATTRIBUTE_MULTIPROCESSOR_COUNT = CudaConst.DeviceAttribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;
    /** {@code CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY}. */
    public static final int ATTRIBUTE_CAN_MAP_HOST_MEMORY = CudaConst.DeviceAttribute.CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY;
    /** {@code CU_DEVICE_ATTRIBUTE_PCI_BUS_ID}. */
    public static final int ATTRIBUTE_PCI_BUS_ID = CudaConst.DeviceAttribute.CU_DEVICE_ATTRIBUTE_PCI_BUS_ID;
    /** {@code CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING}. */
    public static final int ATTRIBUTE_UNIFIED_ADDRESSING = CudaConst.DeviceAttribute.CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING;
    /** {@code CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR}. */
    public static final int ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = CudaConst.DeviceAttribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
    /** {@code CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR}. */
    public static final int ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = CudaConst.DeviceAttribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
    /** {@code CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED}. */
    public static final int ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED =
            CudaConst.DeviceAttribute.CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED;
    /** {@code CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_SUPPORTED}. */
    public static final int ATTRIBUTE_GPU_DIRECT_RDMA_SUPPORTED = CudaConst.DeviceAttribute.CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_SUPPORTED;
    /** {@code CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED}. */
    public static final int ATTRIBUTE_DMA_BUF_SUPPORTED = CudaConst.DeviceAttribute.CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED;

    private Cuda() {
    }

    /** Whether the driver loaded, {@code cuInit} succeeded and at least one device is visible. */
    public static boolean isAvailable() {
        return CudaLibrary.isAvailable();
    }

    /**
     * Why CUDA is unusable here (its message names the library and what to do; its cause is the loader's or
     * driver's error), or null when it is available.
     */
    public static ProviderUnavailableException unavailabilityCause() {
        return CudaLibrary.unavailabilityCause();
    }

    /** Throws {@link #unavailabilityCause()} unless CUDA is available. */
    public static void ensureAvailable() {
        CudaLibrary.require();
    }

    /** {@code cuDriverGetVersion}: {@code 1000 * major + 10 * minor} (13000 is CUDA 13.0); 0 when unavailable. */
    public static int driverVersion() {
        return CudaLibrary.driverVersion();
    }

    /** Number of visible devices; 0 when unavailable. */
    public static int deviceCount() {
        return CudaLibrary.deviceCount();
    }

    /**
     * The device's marketing name ({@code "NVIDIA H200"}).
     *
     * @throws InvalidRequestException      for an ordinal that does not exist
     * @throws ProviderUnavailableException when CUDA is unavailable
     */
    public static String deviceName(int ordinal) {
        Checks.availableDevice(ordinal);
        return DriverCalls.deviceName(ordinal);
    }

    /**
     * {@code cuDeviceGetAttribute}: one of the {@code ATTRIBUTE_*} constants here or any other
     * {@code CUdevice_attribute} number from {@code cuda.h}.
     *
     * @throws InvalidRequestException      for an ordinal that does not exist or a negative attribute
     * @throws CudaException                when the driver rejects the attribute
     * @throws ProviderUnavailableException when CUDA is unavailable
     */
    public static int attribute(int ordinal, int attribute) {
        if (attribute < 0) {
            throw new InvalidRequestException("device attribute must not be negative, got " + attribute);
        }
        Checks.availableDevice(ordinal);
        return DriverCalls.deviceAttribute(ordinal, attribute);
    }

    /**
     * What the driver knows about an address: memory type, owning device, containing allocation. Never
     * fails for host or unknown memory (those report {@link PointerInfo.MemoryType#UNKNOWN} or
     * {@link PointerInfo.MemoryType#HOST}).
     *
     * @throws InvalidRequestException      for a null address
     * @throws ProviderUnavailableException when CUDA is unavailable
     */
    public static PointerInfo pointerInfo(long address) {
        if (address == 0) {
            throw new InvalidRequestException("address is null");
        }
        CudaLibrary.require();
        PrimaryContexts.makeAnyCurrent();
        return DriverCalls.pointerInfo(address);
    }

    /**
     * Makes {@code ordinal}'s primary context current on the calling thread, for code that then calls other
     * CUDA libraries on it. This module's own methods do it themselves.
     */
    public static void makeCurrent(int ordinal) {
        Checks.availableDevice(ordinal);
        PrimaryContexts.makeCurrent(ordinal);
    }

    /**
     * Tells the binding that other code changed the calling thread's current context, so its next call sets
     * the right one again (the binding caches which context it made current, per thread).
     */
    public static void forgetCurrentContext() {
        PrimaryContexts.forgetCurrent();
    }
}
