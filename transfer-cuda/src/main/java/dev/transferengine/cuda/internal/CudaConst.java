package dev.transferengine.cuda.internal;

/**
 * The {@code cuda.h} constants the binding uses, grouped by the C enum they come from. Every
 * {@code CU_*}/{@code CUDA_*} field here is compared with the header by {@code CudaLayoutTest} (through
 * {@code native-headers/cuda/cuda_probe.c}).
 */
public final class CudaConst {
    /** Every group, for the layout test. */
    public static final Class<?>[] GROUPS = {Result.class, PointerAttribute.class, MemoryType.class,
            DeviceAttribute.class, Flags.class, Ipc.class};

    private CudaConst() {
    }

    /** {@code CUresult}. */
    public static final class Result {
        public static final int CUDA_SUCCESS = 0;
        public static final int CUDA_ERROR_INVALID_VALUE = 1;
        public static final int CUDA_ERROR_OUT_OF_MEMORY = 2;
        public static final int CUDA_ERROR_NOT_INITIALIZED = 3;
        public static final int CUDA_ERROR_DEINITIALIZED = 4;
        public static final int CUDA_ERROR_NO_DEVICE = 100;
        public static final int CUDA_ERROR_INVALID_DEVICE = 101;
        public static final int CUDA_ERROR_NOT_READY = 600;
        public static final int CUDA_ERROR_NOT_SUPPORTED = 801;

        private Result() {
        }
    }

    /** {@code CUpointer_attribute}; the comment gives the C type of the value each writes. */
    public static final class PointerAttribute {
        /** {@code unsigned int} ({@link MemoryType}); 0 for memory CUDA does not know. */
        public static final int CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2;
        /** {@code unsigned int} used as a boolean (the driver may write fewer bytes: read a zeroed slot). */
        public static final int CU_POINTER_ATTRIBUTE_IS_MANAGED = 8;
        /** {@code int}. */
        public static final int CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9;
        /** {@code CUdeviceptr} (8 bytes). */
        public static final int CU_POINTER_ATTRIBUTE_RANGE_START_ADDR = 11;
        /** {@code size_t} (8 bytes). */
        public static final int CU_POINTER_ATTRIBUTE_RANGE_SIZE = 12;

        private PointerAttribute() {
        }
    }

    /** {@code CUmemorytype}. */
    public static final class MemoryType {
        public static final int CU_MEMORYTYPE_HOST = 1;
        public static final int CU_MEMORYTYPE_DEVICE = 2;
        public static final int CU_MEMORYTYPE_ARRAY = 3;
        public static final int CU_MEMORYTYPE_UNIFIED = 4;

        private MemoryType() {
        }
    }

    /** {@code CUdevice_attribute}: the ones the engine asks about. */
    public static final class DeviceAttribute {
        public static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
        public static final int CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY = 19;
        public static final int CU_DEVICE_ATTRIBUTE_PCI_BUS_ID = 33;
        public static final int CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING = 41;
        public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
        public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
        public static final int CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED = 102;
        public static final int CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_SUPPORTED = 116;
        public static final int CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED = 124;

        private DeviceAttribute() {
        }
    }

    /** Flag bits and small enums passed to calls. */
    public static final class Flags {
        public static final int CU_STREAM_NON_BLOCKING = 0x1;
        public static final int CU_EVENT_DEFAULT = 0x0;
        public static final int CU_EVENT_DISABLE_TIMING = 0x2;
        public static final int CU_MEMHOSTALLOC_PORTABLE = 0x1;
        public static final int CU_MEMHOSTALLOC_DEVICEMAP = 0x2;
        public static final int CU_STREAM_WAIT_VALUE_GEQ = 0x0;
        public static final int CU_STREAM_WRITE_VALUE_DEFAULT = 0x0;
        public static final int CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD = 0x1;
        /** {@code CUmemcpyAttributes.srcAccessOrder}: the source is read in stream order, like cuMemcpyAsync. */
        public static final int CU_MEMCPY_SRC_ACCESS_ORDER_STREAM = 0x1;

        private Flags() {
        }
    }

    /** Inter-process memory handles. */
    public static final class Ipc {
        public static final int CU_IPC_HANDLE_SIZE = 64;
        public static final int CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS = 0x1;

        private Ipc() {
        }
    }
}
