/*
 * Layout probe for transfer-cuda's hand-written FFM binding of the CUDA driver API.
 *
 * Prints one "name=value" line for every struct size, constant and symbol the Java binding uses:
 *   sizeof.<type>=N   offsetof.<type>.<field>=N   const.<NAME>=N
 *   symbol.<api name>=<exported name>   header.CUDA_VERSION=N
 * "symbol" lines print what cuda.h's macros turn each documented name into (cuMemAlloc -> cuMemAlloc_v2),
 * and taking sizeof(&f) makes the compiler check that the resolved name is declared. Nothing is linked:
 * libcuda is not needed. CudaLayoutTest compiles this with gcc against /usr/local/cuda/include and
 * compares every line with CudaConst, CudaLayouts and CudaFunction.
 * Build by hand: gcc -Wall -Werror -I/usr/local/cuda/include -o cuda_probe cuda_probe.c && ./cuda_probe
 */
#include <stddef.h>
#include <stdio.h>
#include <cuda.h>

#define STR(x) #x
#define XSTR(x) STR(x)
#define CONST(c) printf("const.%s=%lld\n", #c, (long long) (c))
#define SYMBOL(f) do { (void) sizeof(&f); printf("symbol.%s=%s\n", #f, XSTR(f)); } while (0)

static void constants(void)
{
    CONST(CUDA_SUCCESS); CONST(CUDA_ERROR_INVALID_VALUE); CONST(CUDA_ERROR_OUT_OF_MEMORY);
    CONST(CUDA_ERROR_NOT_INITIALIZED); CONST(CUDA_ERROR_DEINITIALIZED); CONST(CUDA_ERROR_NO_DEVICE);
    CONST(CUDA_ERROR_INVALID_DEVICE); CONST(CUDA_ERROR_NOT_READY); CONST(CUDA_ERROR_NOT_SUPPORTED);

    CONST(CU_POINTER_ATTRIBUTE_MEMORY_TYPE); CONST(CU_POINTER_ATTRIBUTE_IS_MANAGED);
    CONST(CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL); CONST(CU_POINTER_ATTRIBUTE_RANGE_START_ADDR);
    CONST(CU_POINTER_ATTRIBUTE_RANGE_SIZE);

    CONST(CU_MEMORYTYPE_HOST); CONST(CU_MEMORYTYPE_DEVICE); CONST(CU_MEMORYTYPE_ARRAY); CONST(CU_MEMORYTYPE_UNIFIED);

    CONST(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT); CONST(CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY);
    CONST(CU_DEVICE_ATTRIBUTE_PCI_BUS_ID); CONST(CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING);
    CONST(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR); CONST(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    CONST(CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED);
    CONST(CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_SUPPORTED); CONST(CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED);

    CONST(CU_STREAM_NON_BLOCKING); CONST(CU_EVENT_DEFAULT); CONST(CU_EVENT_DISABLE_TIMING);
    CONST(CU_MEMHOSTALLOC_PORTABLE); CONST(CU_MEMHOSTALLOC_DEVICEMAP);
    CONST(CU_STREAM_WAIT_VALUE_GEQ); CONST(CU_STREAM_WRITE_VALUE_DEFAULT);
    CONST(CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD); CONST(CU_MEMCPY_SRC_ACCESS_ORDER_STREAM);

    CONST(CU_IPC_HANDLE_SIZE); CONST(CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS);
}

static void symbols(void)
{
    SYMBOL(cuInit); SYMBOL(cuDriverGetVersion); SYMBOL(cuDeviceGetCount); SYMBOL(cuDeviceGet);
    SYMBOL(cuDeviceGetAttribute); SYMBOL(cuDeviceGetName);
    SYMBOL(cuDevicePrimaryCtxRetain); SYMBOL(cuDevicePrimaryCtxRelease); SYMBOL(cuCtxSetCurrent);
    SYMBOL(cuMemAlloc); SYMBOL(cuMemFree); SYMBOL(cuMemHostAlloc); SYMBOL(cuMemFreeHost);
    SYMBOL(cuMemHostGetDevicePointer);
    SYMBOL(cuMemcpyAsync); SYMBOL(cuMemcpyHtoDAsync); SYMBOL(cuMemcpyDtoHAsync); SYMBOL(cuMemcpyDtoDAsync);
    SYMBOL(cuMemsetD8); SYMBOL(cuMemcpyBatchAsync);
    SYMBOL(cuModuleLoadData); SYMBOL(cuModuleGetFunction); SYMBOL(cuLaunchKernel);
    SYMBOL(cuStreamCreate); SYMBOL(cuStreamQuery); SYMBOL(cuStreamDestroy);
    SYMBOL(cuEventCreate); SYMBOL(cuEventRecord); SYMBOL(cuEventQuery); SYMBOL(cuEventElapsedTime);
    SYMBOL(cuEventDestroy);
    SYMBOL(cuPointerGetAttribute); SYMBOL(cuPointerGetAttributes); SYMBOL(cuMemGetAddressRange);
    SYMBOL(cuMemGetHandleForAddressRange);
    SYMBOL(cuIpcGetMemHandle); SYMBOL(cuIpcOpenMemHandle); SYMBOL(cuIpcCloseMemHandle);
    SYMBOL(cuStreamWriteValue64); SYMBOL(cuStreamWaitValue64);
    SYMBOL(cuGetErrorName); SYMBOL(cuGetErrorString);
}

int main(void)
{
    printf("sizeof.CUipcMemHandle=%zu\n", sizeof(CUipcMemHandle));
    printf("sizeof.CUmemcpyAttributes=%zu\n", sizeof(CUmemcpyAttributes));
    printf("offsetof.CUmemcpyAttributes.srcAccessOrder=%zu\n", offsetof(CUmemcpyAttributes, srcAccessOrder));
    printf("offsetof.CUmemcpyAttributes.srcLocHint=%zu\n", offsetof(CUmemcpyAttributes, srcLocHint));
    printf("offsetof.CUmemcpyAttributes.dstLocHint=%zu\n", offsetof(CUmemcpyAttributes, dstLocHint));
    printf("offsetof.CUmemcpyAttributes.flags=%zu\n", offsetof(CUmemcpyAttributes, flags));
    printf("header.CUDA_VERSION=%d\n", CUDA_VERSION);
    constants();
    symbols();
    return 0;
}
