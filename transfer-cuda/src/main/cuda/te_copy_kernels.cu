// The engine's device-side copy kernel (transfer-cuda). Compiled to PTX by scripts/gen-ptx.sh; the PTX is a
// resource of transfer-cuda (src/main/resources/dev/transferengine/cuda/te_copy_kernels.ptx), loaded with
// cuModuleLoadData and launched with cuLaunchKernel by CudaCopyKernel. No CUDA runtime: nothing here may call it.
//
// te_batch_copy: up to TE_MAX_COPIES unrelated copies in one launch, passed by value as the kernel's only
// parameter (3 KiB; the driver copies it at launch, so no device memory holds descriptors). Block (x, y)
// copies part y of copy x: the bytes before the destination's first 16-byte boundary one per thread, then
// 16-byte words strided over gridDim.y * blockDim.x threads, then the bytes after the last whole word. The
// launcher guarantees that each copy's source and destination lie at the same offset within 16 bytes (so the
// words are aligned on both sides) and that every range is memory of (or mapped into) the launching device.

#define TE_MAX_COPIES 128

struct te_batch {
    unsigned long long dst[TE_MAX_COPIES];
    unsigned long long src[TE_MAX_COPIES];
    unsigned long long len[TE_MAX_COPIES];
};

extern "C" __global__ void te_batch_copy(const te_batch batch)
{
    const unsigned int i = blockIdx.x;
    unsigned char *d = reinterpret_cast<unsigned char *>(batch.dst[i]);
    const unsigned char *s = reinterpret_cast<const unsigned char *>(batch.src[i]);
    unsigned long long len = batch.len[i];
    const unsigned long long first = (unsigned long long) blockIdx.y * blockDim.x + threadIdx.x;
    const unsigned long long stride = (unsigned long long) gridDim.y * blockDim.x;
    unsigned long long head = (16 - (batch.dst[i] & 15)) & 15;
    if (head > len) {
        head = len;
    }
    if (first < head) {
        d[first] = s[first];
    }
    d += head;
    s += head;
    len -= head;
    const unsigned long long words = len >> 4;
    uint4 *dw = reinterpret_cast<uint4 *>(d);
    const uint4 *sw = reinterpret_cast<const uint4 *>(s);
    for (unsigned long long k = first; k < words; k += stride) {
        dw[k] = sw[k];
    }
    const unsigned long long tail = len & 15;
    if (first < tail) {
        d[(words << 4) + first] = s[(words << 4) + first];
    }
}
