// The engine's device-side copy kernel (transfer-cuda). Compiled to PTX by scripts/gen-ptx.sh; the PTX is a
// resource of transfer-cuda (src/main/resources/dev/transferengine/cuda/te_copy_kernels.ptx), loaded with
// cuModuleLoadData and launched with cuLaunchKernel by CudaCopyKernel. No CUDA runtime: nothing here may call it.
//
// te_batch_copy: up to TE_MAX_COPIES unrelated copies in one launch, passed by value as the kernel's only
// parameter (3 KiB; the driver copies it at launch, so no device memory holds descriptors). Block (x, y)
// copies part y of copy x: 16-byte words strided over gridDim.y * blockDim.x threads. The launcher guarantees
// that every address and length is a multiple of 16 and that every range is memory of (or mapped into) the
// launching device.

#define TE_MAX_COPIES 128

struct te_batch {
    unsigned long long dst[TE_MAX_COPIES];
    unsigned long long src[TE_MAX_COPIES];
    unsigned long long len[TE_MAX_COPIES];
};

extern "C" __global__ void te_batch_copy(const te_batch batch)
{
    const unsigned int i = blockIdx.x;
    uint4 *d = reinterpret_cast<uint4 *>(batch.dst[i]);
    const uint4 *s = reinterpret_cast<const uint4 *>(batch.src[i]);
    const unsigned long long words = batch.len[i] >> 4;
    const unsigned long long stride = (unsigned long long) gridDim.y * blockDim.x;
    for (unsigned long long k = (unsigned long long) blockIdx.y * blockDim.x + threadIdx.x; k < words; k += stride) {
        d[k] = s[k];
    }
}
