/*
 * A fake libcuda.so.1 for CI machines without a GPU: every function transfer-cuda binds, defined with
 * cuda.h's own prototypes (so the _v2 names come from the header's macros), backed by host memory.
 * FakeDriverTest builds it with
 *   gcc -shared -fPIC -Wall -Werror -I/usr/local/cuda/include -o libfakecuda.so fake_libcuda.c
 * and runs a child JVM with -Dte.cuda.library pointing at it, to exercise the real downcalls: out-parameters,
 * 4- and 8-byte pointer attributes, the 64-byte CUipcMemHandle passed by value, error names.
 * Behaviour: allocations are page-aligned host memory; copies and stream writes happen at once; each event
 * answers CUDA_ERROR_NOT_READY to the first query after a record; cuInit returns $FAKE_CUDA_INIT_ERROR if set,
 * every cuMemcpyBatchAsync $FAKE_CUDA_BATCH_ERROR; cuModuleLoadData fails when $FAKE_CUDA_NO_KERNEL is set.
 */
#define _GNU_SOURCE
#include <cuda.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ALLOCS 256

struct alloc { uintptr_t base; size_t size; unsigned int type; };
static struct alloc allocs[MAX_ALLOCS];

static struct alloc *find(uintptr_t p)
{
    for (int i = 0; i < MAX_ALLOCS; i++) {
        if (allocs[i].base && p >= allocs[i].base && p < allocs[i].base + allocs[i].size) {
            return &allocs[i];
        }
    }
    return NULL;
}

static CUresult track(void **out, size_t size, unsigned int type)
{
    if (size > ((size_t) 1 << 40)) {
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    void *p = aligned_alloc(4096, (size + 4095) & ~(size_t) 4095);
    for (int i = 0; p && i < MAX_ALLOCS; i++) {
        if (!allocs[i].base) {
            allocs[i] = (struct alloc) { (uintptr_t) p, size, type };
            *out = p;
            return CUDA_SUCCESS;
        }
    }
    free(p);
    return CUDA_ERROR_OUT_OF_MEMORY;
}

static CUresult untrack(uintptr_t p)
{
    struct alloc *a = find(p);
    if (!a || a->base != p) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    free((void *) p);
    a->base = 0;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuInit(unsigned int flags)
{
    const char *e = getenv("FAKE_CUDA_INIT_ERROR");
    return flags != 0 ? CUDA_ERROR_INVALID_VALUE : e ? (CUresult) atoi(e) : CUDA_SUCCESS;
}
CUresult CUDAAPI cuDriverGetVersion(int *v) { *v = 13000; return CUDA_SUCCESS; }
CUresult CUDAAPI cuDeviceGetCount(int *n) { *n = 1; return CUDA_SUCCESS; }
CUresult CUDAAPI cuDeviceGet(CUdevice *d, int ordinal) { *d = ordinal; return ordinal == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE; }
CUresult CUDAAPI cuDeviceGetAttribute(int *v, CUdevice_attribute a, CUdevice d) { *v = 1000 + (int) a + 100 * d; return CUDA_SUCCESS; }
CUresult CUDAAPI cuDeviceGetName(char *name, int len, CUdevice d) { strncpy(name, "Fake CUDA Device", len); return CUDA_SUCCESS; }
CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d) { *c = (CUcontext) (uintptr_t) 0xc0de; return CUDA_SUCCESS; }
CUresult CUDAAPI cuDevicePrimaryCtxRelease(CUdevice d) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuCtxSetCurrent(CUcontext c) { return c == (CUcontext) (uintptr_t) 0xc0de ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }

CUresult CUDAAPI cuMemAlloc(CUdeviceptr *p, size_t n)
{
    void *h;
    CUresult r = track(&h, n, CU_MEMORYTYPE_DEVICE);
    *p = (CUdeviceptr) (uintptr_t) h;
    return r;
}
CUresult CUDAAPI cuMemFree(CUdeviceptr p) { return untrack((uintptr_t) p); }
CUresult CUDAAPI cuMemHostAlloc(void **p, size_t n, unsigned int flags) { return track(p, n, CU_MEMORYTYPE_HOST); }
CUresult CUDAAPI cuMemFreeHost(void *p) { return untrack((uintptr_t) p); }
CUresult CUDAAPI cuMemHostGetDevicePointer(CUdeviceptr *d, void *p, unsigned int flags) { *d = (CUdeviceptr) (uintptr_t) p; return CUDA_SUCCESS; }

CUresult CUDAAPI cuMemcpyAsync(CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st) { memcpy((void *) d, (void *) s, n); return CUDA_SUCCESS; }
CUresult CUDAAPI cuMemcpyHtoDAsync(CUdeviceptr d, const void *s, size_t n, CUstream st) { memcpy((void *) d, s, n); return CUDA_SUCCESS; }
CUresult CUDAAPI cuMemcpyDtoHAsync(void *d, CUdeviceptr s, size_t n, CUstream st) { memcpy(d, (void *) s, n); return CUDA_SUCCESS; }
CUresult CUDAAPI cuMemcpyDtoDAsync(CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st) { memcpy((void *) d, (void *) s, n); return CUDA_SUCCESS; }
/* Checks what the binding passes (one attribute set from copy 0, stream order, no hints or flags), then copies;
 * $FAKE_CUDA_BATCH_ERROR makes every batch fail with that CUresult instead (the fallback path). */
CUresult CUDAAPI cuMemcpyBatchAsync(CUdeviceptr *d, CUdeviceptr *s, size_t *n, size_t count, CUmemcpyAttributes *attrs,
                                    size_t *attrsIdxs, size_t numAttrs, CUstream st)
{
    const char *forced = getenv("FAKE_CUDA_BATCH_ERROR");
    if (forced) {
        return (CUresult) atoi(forced);
    }
    if (count == 0 || numAttrs != 1 || attrsIdxs[0] != 0 || attrs[0].srcAccessOrder != CU_MEMCPY_SRC_ACCESS_ORDER_STREAM
        || attrs[0].flags != 0 || attrs[0].srcLocHint.type != 0 || attrs[0].dstLocHint.type != 0 || st == NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    for (size_t i = 0; i < count; i++) {
        memcpy((void *) d[i], (void *) s[i], n[i]);
    }
    return CUDA_SUCCESS;
}
/* The copy kernel: the module must be the engine's PTX (its entry named), the function te_batch_copy; a launch
 * reads the by-value struct te_batch { u64 dst[128], src[128], len[128]; } and copies gridDimX entries.
 * $FAKE_CUDA_NO_KERNEL makes loading fail (the kernel is then off). */
static int fake_module = 1;
static int fake_function = 2;
CUresult CUDAAPI cuModuleLoadData(CUmodule *m, const void *image)
{
    if (getenv("FAKE_CUDA_NO_KERNEL") || !strstr((const char *) image, ".entry te_batch_copy")) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *m = (CUmodule) &fake_module;
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuModuleGetFunction(CUfunction *f, CUmodule m, const char *name)
{
    if (m != (CUmodule) &fake_module || strcmp(name, "te_batch_copy") != 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *f = (CUfunction) &fake_function;
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,
                                unsigned int by, unsigned int bz, unsigned int shared, CUstream st, void **params,
                                void **extra)
{
    if (f != (CUfunction) &fake_function || gx == 0 || gx > 128 || gy == 0 || gz != 1 || bx == 0 || by != 1
        || bz != 1 || st == NULL || params == NULL || extra != NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    const unsigned long long *batch = (const unsigned long long *) params[0];
    for (unsigned int i = 0; i < gx; i++) {
        if ((batch[i] ^ batch[128 + i]) & 15) {
            return CUDA_ERROR_INVALID_VALUE; /* the launcher promised source and destination at one offset in 16 bytes */
        }
        memcpy((void *) batch[i], (const void *) batch[128 + i], batch[256 + i]);
    }
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemsetD8(CUdeviceptr d, unsigned char v, size_t n) { memset((void *) d, v, n); return CUDA_SUCCESS; }

struct fake_event { int pending; };
CUresult CUDAAPI cuStreamCreate(CUstream *s, unsigned int flags) { *s = (CUstream) malloc(16); return flags == CU_STREAM_NON_BLOCKING ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }
CUresult CUDAAPI cuStreamQuery(CUstream s) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuStreamDestroy(CUstream s) { free(s); return CUDA_SUCCESS; }
CUresult CUDAAPI cuEventCreate(CUevent *e, unsigned int flags) { *e = (CUevent) calloc(1, sizeof(struct fake_event)); return CUDA_SUCCESS; }
CUresult CUDAAPI cuEventRecord(CUevent e, CUstream s) { ((struct fake_event *) e)->pending = 1; return CUDA_SUCCESS; }
CUresult CUDAAPI cuEventQuery(CUevent e)
{
    struct fake_event *f = (struct fake_event *) e;
    if (f->pending) {
        f->pending = 0;
        return CUDA_ERROR_NOT_READY;
    }
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuEventElapsedTime(float *ms, CUevent a, CUevent b) { *ms = 1.5f; return CUDA_SUCCESS; }
CUresult CUDAAPI cuEventDestroy(CUevent e) { free(e); return CUDA_SUCCESS; }

static void attribute(void *data, CUpointer_attribute a, struct alloc *al)
{
    switch (a) {
    case CU_POINTER_ATTRIBUTE_MEMORY_TYPE: *(unsigned int *) data = al ? al->type : 0; break;
    case CU_POINTER_ATTRIBUTE_IS_MANAGED: *(unsigned int *) data = 0; break;
    case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL: *(int *) data = al ? 0 : -2; break;
    case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR: *(CUdeviceptr *) data = al ? al->base : 0; break;
    case CU_POINTER_ATTRIBUTE_RANGE_SIZE: *(size_t *) data = al ? al->size : 0; break;
    default: break;
    }
}
CUresult CUDAAPI cuPointerGetAttribute(void *data, CUpointer_attribute a, CUdeviceptr p)
{
    struct alloc *al = find((uintptr_t) p);
    if (!al) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    attribute(data, a, al);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuPointerGetAttributes(unsigned int n, CUpointer_attribute *a, void **data, CUdeviceptr p)
{
    struct alloc *al = find((uintptr_t) p);
    for (unsigned int i = 0; i < n; i++) {
        attribute(data[i], a[i], al);
    }
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemGetAddressRange(CUdeviceptr *base, size_t *size, CUdeviceptr p)
{
    struct alloc *al = find((uintptr_t) p);
    if (!al) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *base = al->base;
    *size = al->size;
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemGetHandleForAddressRange(void *handle, CUdeviceptr p, size_t n, CUmemRangeHandleType t,
                                               unsigned long long flags)
{
    struct alloc *al = find((uintptr_t) p);
    if (!al || al->type != CU_MEMORYTYPE_DEVICE || t != CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD || flags != 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *(int *) handle = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuIpcGetMemHandle(CUipcMemHandle *h, CUdeviceptr p)
{
    for (int i = 0; i < CU_IPC_HANDLE_SIZE; i++) {
        h->reserved[i] = (char) (i + 1);
    }
    memcpy(h->reserved, &p, sizeof p);
    return CUDA_SUCCESS;
}
/* The handle arrives by value: checking every byte checks the Java side passes the struct, not a pointer. */
CUresult CUDAAPI cuIpcOpenMemHandle(CUdeviceptr *p, CUipcMemHandle h, unsigned int flags)
{
    for (int i = sizeof(CUdeviceptr); i < CU_IPC_HANDLE_SIZE; i++) {
        if (h.reserved[i] != (char) (i + 1)) {
            return CUDA_ERROR_INVALID_VALUE;
        }
    }
    memcpy(p, h.reserved, sizeof *p);
    return flags == CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
CUresult CUDAAPI cuIpcCloseMemHandle(CUdeviceptr p) { return CUDA_SUCCESS; }

CUresult CUDAAPI cuStreamWriteValue64(CUstream s, CUdeviceptr a, cuuint64_t v, unsigned int flags)
{
    __atomic_store_n((cuuint64_t *) a, v, __ATOMIC_RELEASE);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuStreamWaitValue64(CUstream s, CUdeviceptr a, cuuint64_t v, unsigned int flags) { return CUDA_SUCCESS; }

CUresult CUDAAPI cuGetErrorName(CUresult r, const char **s)
{
    switch (r) {
    case CUDA_SUCCESS: *s = "CUDA_SUCCESS"; return CUDA_SUCCESS;
    case CUDA_ERROR_INVALID_VALUE: *s = "CUDA_ERROR_INVALID_VALUE"; return CUDA_SUCCESS;
    case CUDA_ERROR_OUT_OF_MEMORY: *s = "CUDA_ERROR_OUT_OF_MEMORY"; return CUDA_SUCCESS;
    case CUDA_ERROR_NO_DEVICE: *s = "CUDA_ERROR_NO_DEVICE"; return CUDA_SUCCESS;
    case CUDA_ERROR_NOT_READY: *s = "CUDA_ERROR_NOT_READY"; return CUDA_SUCCESS;
    default: *s = NULL; return CUDA_ERROR_INVALID_VALUE;
    }
}
CUresult CUDAAPI cuGetErrorString(CUresult r, const char **s)
{
    switch (r) {
    case CUDA_ERROR_OUT_OF_MEMORY: *s = "out of memory"; return CUDA_SUCCESS;
    case CUDA_ERROR_NO_DEVICE: *s = "no CUDA-capable device is detected"; return CUDA_SUCCESS;
    default: *s = "fake error"; return CUDA_SUCCESS;
    }
}
