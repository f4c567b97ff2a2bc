/*
 * fi_write_bench: the C baseline for transfer-bench's `compare` and `gpu --baseline-binary` commands.
 *
 * The same pattern transfer-bench's local mode drives through the Java engine, straight over
 * libfabric: two RDM endpoints (a writer and a target, each with its own domain, CQ and AV), a window
 * of fi_writemsg() with FI_REMOTE_CQ_DATA in flight, manual progress (each side's thread reads its own
 * CQ continuously), -FI_EAGAIN answered by reading completions and retrying. A size is done when the
 * writer has every local completion and the target has counted every immediate, which is what the
 * Java bench waits for too.
 *
 * By default both endpoints live in this one process (the target on a second thread). With -P they
 * live in two processes: the program forks before any libfabric or CUDA call; the child is the target
 * (it opens its endpoint, allocates and registers its buffer and passes its fi_getname address, MR key
 * and buffer address to the writer through a pipe), the parent is the writer. For each warm-up and
 * timed run the writer tells the target through a second pipe how many imms it must have counted in
 * total, and the target answers once it has: the writer's timing of a size ends with that answer (the
 * same "done" rule as in one process). CUDA IPC, which libfabric's shm moves device memory with, cannot
 * open a handle in the process that exported it, so GPU-to-GPU over shm needs -P (as fi_rma_bw -D cuda
 * runs two processes).
 *
 * With -D cuda[:N] both buffers are CUDA device memory of device N (default 0), allocated through the
 * CUDA driver API, which is loaded with dlopen("libcuda.so.1") at run time (no CUDA headers or
 * libraries are needed to build), and registered with fi_mr_regattr(iface FI_HMEM_CUDA, device.cuda
 * N), FI_HMEM in the caps and FI_MR_HMEM in mr_mode. With -P the registrations carry
 * FI_HMEM_DEVICE_ONLY, as the Java engine's do (libfabric.hmemDeviceOnly, default true): shm 1.17 uses
 * CUDA IPC only for such registrations. In one process they do not (CUDA IPC within one process
 * fails; the engine's in-process GPU bench sets libfabric.hmemDeviceOnly=false the same way), which
 * makes shm copy through its host bounce buffers. Without libcuda.so.1 (no NVIDIA driver) the program
 * exits 1 with a one-line message. A libfabric without CUDA support refuses the registration.
 *
 * Output: one tab-separated line per size on stdout:
 *   size_bytes  ops  seconds  gbps  mops
 * and diagnostics on stderr. Exit status 0 on success, 1 on any libfabric or CUDA error, 2 on bad
 * usage.
 *
 * Build: gcc -O2 -Wall -o fi_write_bench fi_write_bench.c -lfabric -lpthread -ldl
 * (-ldl for glibc before 2.34; later glibc has dlopen in libc and ignores it)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>

#define CQ_BATCH 16
/* Empty polls in a row before a thread in -y mode yields its core: the engine's back-off also spins 100 times. */
#define IDLE_SPINS 100
#define MAX_SIZES 64
#define HOST_MEMORY (-1)

struct options {
    const char *provider;   /* libfabric provider name, e.g. "tcp;ofi_rxm" or "shm" */
    const char *node;       /* fi_getinfo node (with FI_SOURCE), e.g. 127.0.0.1 for tcp; NULL for none */
    size_t sizes[MAX_SIZES];
    int nsizes;
    long iterations;        /* writes per size */
    long warmup;            /* writes per size before timing */
    int window;             /* writes in flight */
    int delivery_complete;  /* add FI_DELIVERY_COMPLETE to every write */
    int no_hmem;            /* do not ask for FI_HMEM first */
    int yield;              /* sched_yield() after IDLE_SPINS empty polls in a row */
    int no_imm;             /* writes without FI_REMOTE_CQ_DATA; a size is done at the last local completion */
    int two_processes;      /* -P: the target in a forked child */
    int cuda_device;        /* -D cuda:N: N; HOST_MEMORY for host memory */
};

struct endpoint {
    struct fid_domain *domain;
    struct fid_cq *cq;
    struct fid_av *av;
    struct fid_ep *ep;
    struct fid_mr *mr;
    char *buf;              /* host memory, or the device address of CUDA memory (never dereferenced then) */
    size_t buflen;
    int cuda_device;        /* HOST_MEMORY or the CUDA ordinal buf belongs to */
    uint64_t remote_base;   /* what a peer adds offsets to: VA with FI_MR_VIRT_ADDR, else 0 */
};

/* What the target process tells the writer through the pipe once its endpoint and buffer are ready. */
struct target_hello {
    uint32_t magic;
    uint32_t namelen;
    uint64_t key;
    uint64_t remote_base;
    char name[256];
};
#define HELLO_MAGIC 0x66776231u /* "fwb1" */

static const char *self = "fi_write_bench"; /* the target process says "fi_write_bench (target process)" */
static struct fi_info *info;
static struct fid_fabric *fabric;
static struct endpoint writer, target;
static fi_addr_t target_addr;
static uint64_t target_key, target_base;

/* One process: the target thread's state. */
static atomic_long imms_expected;
static atomic_long imms_seen;
static atomic_int target_running = 1;

/* Two processes (-P), the writer's side: the pipes to and from the target process, and its pid. */
static int to_target = -1, from_target = -1;
static pid_t target_pid;

static void die(const char *what, int rc)
{
    fprintf(stderr, "%s: %s failed: %d (%s)\n", self, what, rc, fi_strerror(rc < 0 ? -rc : rc));
    exit(1);
}

static void fail(const char *message)
{
    fprintf(stderr, "%s: %s\n", self, message);
    exit(1);
}

#define CHECK(call) do { int rc_ = (int)(call); if (rc_ < 0) die(#call, rc_); } while (0)

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- The CUDA driver API, loaded at run time (no cuda.h needed) ---- */

typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef unsigned long long CUdeviceptr;

static struct {
    CUresult (*cuInit)(unsigned int flags);
    CUresult (*cuDeviceGetCount)(int *count);
    CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
    CUresult (*cuDeviceGetName)(char *name, int len, CUdevice device);
    CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *ctx, CUdevice device);
    CUresult (*cuCtxSetCurrent)(CUcontext ctx);
    CUresult (*cuMemAlloc)(CUdeviceptr *dptr, size_t bytes);                     /* cuMemAlloc_v2 */
    CUresult (*cuMemFree)(CUdeviceptr dptr);                                     /* cuMemFree_v2 */
    CUresult (*cuMemsetD8)(CUdeviceptr dptr, unsigned char value, size_t count); /* cuMemsetD8_v2 */
    CUresult (*cuGetErrorString)(CUresult error, const char **text);
} cu;
static char cuda_device_name[256];
static CUcontext cuda_context; /* device N's primary context, once cuda_init ran */

/* Loads libcuda.so.1 and its functions; exits 1 with one line when the driver is not there. No CUDA call is
 * made here, so it may run before fork(). */
static void cuda_load(void)
{
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "%s: -D cuda needs the NVIDIA driver, but libcuda.so.1 could not be loaded: %s\n", self,
                dlerror());
        exit(1);
    }
    static const struct { const char *name; size_t offset; } symbols[] = {
        { "cuInit", offsetof(__typeof__(cu), cuInit) },
        { "cuDeviceGetCount", offsetof(__typeof__(cu), cuDeviceGetCount) },
        { "cuDeviceGet", offsetof(__typeof__(cu), cuDeviceGet) },
        { "cuDeviceGetName", offsetof(__typeof__(cu), cuDeviceGetName) },
        { "cuDevicePrimaryCtxRetain", offsetof(__typeof__(cu), cuDevicePrimaryCtxRetain) },
        { "cuCtxSetCurrent", offsetof(__typeof__(cu), cuCtxSetCurrent) },
        { "cuMemAlloc_v2", offsetof(__typeof__(cu), cuMemAlloc) },
        { "cuMemFree_v2", offsetof(__typeof__(cu), cuMemFree) },
        { "cuMemsetD8_v2", offsetof(__typeof__(cu), cuMemsetD8) },
        { "cuGetErrorString", offsetof(__typeof__(cu), cuGetErrorString) },
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        void *fn = dlsym(lib, symbols[i].name);
        if (fn == NULL) {
            fprintf(stderr, "%s: libcuda.so.1 has no %s (driver too old?)\n", self, symbols[i].name);
            exit(1);
        }
        memcpy((char *)&cu + symbols[i].offset, &fn, sizeof fn);
    }
}

static void cuda_check(const char *what, CUresult rc)
{
    if (rc != 0) {
        const char *text = NULL;
        if (cu.cuGetErrorString == NULL || cu.cuGetErrorString(rc, &text) != 0 || text == NULL) {
            text = "unknown CUDA error";
        }
        fprintf(stderr, "%s: %s failed: CUDA error %d (%s)\n", self, what, rc, text);
        exit(1);
    }
}

/* cuInit, then device N's primary context made current on this thread (the context libfabric's CUDA runtime
 * calls use too). */
static void cuda_init(int ordinal)
{
    int count = 0;
    CUdevice device;
    cuda_check("cuInit", cu.cuInit(0));
    cuda_check("cuDeviceGetCount", cu.cuDeviceGetCount(&count));
    if (ordinal >= count) {
        fprintf(stderr, "%s: -D cuda:%d names no device: this machine has %d CUDA device(s)\n", self, ordinal, count);
        exit(1);
    }
    cuda_check("cuDeviceGet", cu.cuDeviceGet(&device, ordinal));
    if (cu.cuDeviceGetName(cuda_device_name, sizeof cuda_device_name, device) != 0) {
        strcpy(cuda_device_name, "?");
    }
    cuda_check("cuDevicePrimaryCtxRetain", cu.cuDevicePrimaryCtxRetain(&cuda_context, device));
    cuda_check("cuCtxSetCurrent", cu.cuCtxSetCurrent(cuda_context));
}

/* ---- Pipes between the writer and the target process (-P) ---- */

static void write_full(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            fprintf(stderr, "%s: writing to the other process failed: %s\n", self, n < 0 ? strerror(errno) : "closed");
            exit(1);
        }
        p += n;
        len -= (size_t)n;
    }
}

/* Reads len bytes (spinning over EAGAIN on a non-blocking fd); 0 at end of file before the first byte, else 1. */
static int read_full(int fd, void *data, size_t len)
{
    char *p = data;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n < 0) {
            fprintf(stderr, "%s: reading from the other process failed: %s\n", self, strerror(errno));
            exit(1);
        }
        if (n == 0) {
            if (got == 0) {
                return 0;
            }
            fail("the other process closed the pipe in the middle of a message");
        }
        got += (size_t)n;
    }
    return 1;
}

/* A non-blocking read of one int64 message: 1 and *value when one was there, 0 when none yet, -1 at end of file. */
static int poll_message(int fd, int64_t *value)
{
    ssize_t n = read(fd, value, sizeof *value);
    if (n == (ssize_t)sizeof *value) {
        return 1;
    }
    if (n == 0) {
        return -1;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            return 0;
        }
        fprintf(stderr, "%s: reading from the other process failed: %s\n", self, strerror(errno));
        exit(1);
    }
    /* Messages are 8-byte writes (atomic on a pipe), so this does not happen; finish the message anyway. */
    if (!read_full(fd, (char *)value + n, sizeof *value - (size_t)n)) {
        return -1;
    }
    return 1;
}

/* Says why the target process ended, after the writer saw its pipe close. */
static void target_gone(const char *when)
{
    int status = 0;
    fprintf(stderr, "%s: the target process ended %s", self, when);
    if (waitpid(target_pid, &status, 0) == target_pid) {
        if (WIFEXITED(status)) {
            fprintf(stderr, " (exit status %d; its message is above)\n", WEXITSTATUS(status));
        } else if (WIFSIGNALED(status)) {
            fprintf(stderr, " (killed by signal %d)\n", WTERMSIG(status));
        } else {
            fprintf(stderr, "\n");
        }
    } else {
        fprintf(stderr, "\n");
    }
    exit(1);
}

/* ---- libfabric ---- */

static void report_cq_error(struct fid_cq *cq)
{
    struct fi_cq_err_entry err;
    memset(&err, 0, sizeof err);
    if (fi_cq_readerr(cq, &err, 0) > 0) {
        fprintf(stderr, "%s: completion error %d: %s\n", self, err.err,
                fi_cq_strerror(cq, err.prov_errno, err.err_data, NULL, 0));
    }
    exit(1);
}

/* Reads up to CQ_BATCH completions; returns how many, counting immediates into *imms when non-NULL. */
static long drain_cq(struct fid_cq *cq, long *imms)
{
    struct fi_cq_data_entry entries[CQ_BATCH];
    ssize_t n = fi_cq_read(cq, entries, CQ_BATCH);
    if (n == -FI_EAGAIN) {
        return 0;
    }
    if (n == -FI_EAVAIL) {
        report_cq_error(cq);
    }
    if (n < 0) {
        die("fi_cq_read", (int)n);
    }
    if (imms != NULL) {
        for (ssize_t i = 0; i < n; i++) {
            if (entries[i].flags & FI_REMOTE_CQ_DATA) {
                (*imms)++;
            }
        }
    }
    return n;
}

static int yield_when_idle; /* -y */

/* Called after every poll with what it found: in -y mode, yields after IDLE_SPINS empty polls in a row. */
static void idle(long found, int *empty)
{
    if (found > 0 || !yield_when_idle) {
        *empty = 0;
    } else if (++*empty >= IDLE_SPINS) {
        *empty = 0;
        sched_yield();
    }
}

/* fi_getinfo with the hints the Java engine's libfabric provider uses, then fi_fabric. */
static void open_fabric(const struct options *o)
{
    /* The hints the Java engine's libfabric provider uses (transfer-efa InfoList): the same caps, modes, MR
     * modes and threading, FI_HMEM asked for first and dropped if nothing offers it (device memory needs it).
     * Same hints, same fi_info entry, same protocol inside the provider. */
    int rc = -FI_ENODATA;
    int device = o->cuda_device != HOST_MEMORY;
    for (int hmem = o->no_hmem ? 0 : 1; hmem >= (device ? 1 : 0) && rc != 0; hmem--) {
        struct fi_info *hints = fi_allocinfo();
        hints->caps = FI_MSG | FI_RMA | FI_WRITE | FI_REMOTE_WRITE | FI_SEND | FI_RECV | (hmem ? FI_HMEM : 0);
        hints->mode = FI_CONTEXT | FI_CONTEXT2;
        hints->ep_attr->type = FI_EP_RDM;
        hints->domain_attr->mr_mode = FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY
                                      | (hmem ? FI_MR_HMEM : 0);
        hints->domain_attr->threading = FI_THREAD_DOMAIN;
        hints->fabric_attr->prov_name = strdup(o->provider);
        rc = fi_getinfo(FI_VERSION(1, 17), o->node, NULL, o->node ? FI_SOURCE : 0, hints, &info);
        fi_freeinfo(hints);
    }
    if (rc != 0 && device) {
        fprintf(stderr, "%s: provider %s offers no FI_HMEM entry, which -D cuda needs: fi_getinfo failed: %d (%s)\n",
                self, o->provider, rc, fi_strerror(-rc));
        exit(1);
    }
    CHECK(rc);
    CHECK(fi_fabric(info->fabric_attr, &fabric, NULL));
}

static void open_endpoint(struct endpoint *e, size_t buflen, uint64_t requested_key, int cuda_device, int device_only)
{
    /* The engine's CQ depth: tx_size + rx_size (each at least 64), at most 32768. */
    size_t tx = info->tx_attr->size > 64 ? info->tx_attr->size : 64;
    size_t rx = info->rx_attr->size > 64 ? info->rx_attr->size : 64;
    struct fi_cq_attr cq_attr = { .size = tx + rx < 32768 ? tx + rx : 32768, .format = FI_CQ_FORMAT_DATA,
                                  .wait_obj = FI_WAIT_NONE };
    struct fi_av_attr av_attr = { .type = FI_AV_TABLE };
    uint64_t access = FI_WRITE | FI_REMOTE_WRITE | FI_SEND | FI_RECV;

    CHECK(fi_domain(fabric, info, &e->domain, NULL));
    CHECK(fi_cq_open(e->domain, &cq_attr, &e->cq, NULL));
    CHECK(fi_av_open(e->domain, &av_attr, &e->av, NULL));
    CHECK(fi_endpoint(e->domain, info, &e->ep, NULL));
    CHECK(fi_ep_bind(e->ep, &e->cq->fid, FI_TRANSMIT | FI_RECV));
    CHECK(fi_ep_bind(e->ep, &e->av->fid, 0));
    CHECK(fi_enable(e->ep));

    e->buflen = buflen;
    e->cuda_device = cuda_device;
    if (cuda_device == HOST_MEMORY) {
        if (posix_memalign((void **)&e->buf, 4096, buflen) != 0) {
            die("posix_memalign", -ENOMEM);
        }
        memset(e->buf, 0x5a, buflen);
        CHECK(fi_mr_reg(e->domain, e->buf, buflen, access, 0, requested_key, 0, &e->mr, NULL));
    } else {
        CUdeviceptr dptr = 0;
        cuda_check("cuMemAlloc_v2", cu.cuMemAlloc(&dptr, buflen));
        cuda_check("cuMemsetD8_v2", cu.cuMemsetD8(dptr, 0x5a, buflen));
        e->buf = (char *)(uintptr_t)dptr;
        struct iovec iov = { .iov_base = e->buf, .iov_len = buflen };
        struct fi_mr_attr attr;
        memset(&attr, 0, sizeof attr); /* fields newer headers add stay zero */
        attr.mr_iov = &iov;
        attr.iov_count = 1;
        attr.access = access;
        attr.offset = 0;
        attr.requested_key = requested_key;
        attr.iface = FI_HMEM_CUDA;
        attr.device.cuda = cuda_device;
        int rc = fi_mr_regattr(e->domain, &attr, device_only ? FI_HMEM_DEVICE_ONLY : 0, &e->mr);
        if (rc != 0) {
            fprintf(stderr, "%s: fi_mr_regattr of %zu bytes of CUDA memory (device %d%s) failed: %d (%s)%s\n", self,
                    buflen, cuda_device, device_only ? ", FI_HMEM_DEVICE_ONLY" : "", rc, fi_strerror(-rc),
                    rc == -FI_ENOSYS ? "; this libfabric has no working CUDA support (built without it, or it could not "
                    "load libcuda.so / libcudart.so: FI_LOG_LEVEL=warn says which)" : "");
            exit(1);
        }
    }
    e->remote_base = (info->domain_attr->mr_mode & FI_MR_VIRT_ADDR) ? (uint64_t)(uintptr_t)e->buf : 0;
}

static void close_endpoint(struct endpoint *e)
{
    fi_close(&e->mr->fid);
    fi_close(&e->ep->fid);
    fi_close(&e->av->fid);
    fi_close(&e->cq->fid);
    fi_close(&e->domain->fid);
    if (e->cuda_device == HOST_MEMORY) {
        free(e->buf);
    } else {
        cu.cuMemFree((CUdeviceptr)(uintptr_t)e->buf);
    }
}

/* One process: the target's progress thread, reading its CQ continuously and counting immediates. */
static void *target_loop(void *arg)
{
    (void)arg;
    long seen = 0;
    int empty = 0;
    if (cuda_context != NULL) {
        cuda_check("cuCtxSetCurrent", cu.cuCtxSetCurrent(cuda_context)); /* the provider's CUDA calls on this thread */
    }
    while (atomic_load_explicit(&target_running, memory_order_relaxed)) {
        long n = drain_cq(target.cq, &seen);
        if (n > 0) {
            atomic_store_explicit(&imms_seen, seen, memory_order_release);
        }
        idle(n, &empty);
    }
    return NULL;
}

/*
 * Two processes: the target process's whole life. Opens its endpoint and buffer, sends the writer a
 * target_hello, then reads its CQ continuously (one thread), counting immediates; whenever no count is
 * outstanding it looks for the writer's next message: a total of imms to wait for (answered with the count
 * once reached) or -1 (quit).
 */
static int target_process(const struct options *o, size_t maxsize, int to_writer, int from_writer)
{
    self = "fi_write_bench (target process)";
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the writer, whatever it died of */
    if (o->cuda_device != HOST_MEMORY) {
        cuda_init(o->cuda_device);
    }
    open_fabric(o);
    open_endpoint(&target, maxsize, 2, o->cuda_device, 1);

    struct target_hello hello;
    memset(&hello, 0, sizeof hello);
    size_t namelen = sizeof hello.name;
    CHECK(fi_getname(&target.ep->fid, hello.name, &namelen));
    hello.magic = HELLO_MAGIC;
    hello.namelen = (uint32_t)namelen;
    hello.key = fi_mr_key(target.mr);
    hello.remote_base = target.remote_base;
    write_full(to_writer, &hello, sizeof hello);
    if (fcntl(from_writer, F_SETFL, fcntl(from_writer, F_GETFL) | O_NONBLOCK) != 0) {
        fail("fcntl(O_NONBLOCK) on the pipe failed");
    }

    long seen = 0;
    int64_t expected = 0;
    int counting = 0, empty = 0;
    for (;;) {
        long n = drain_cq(target.cq, &seen);
        if (counting) {
            if (seen >= expected) {
                int64_t counted = seen;
                write_full(to_writer, &counted, sizeof counted);
                counting = 0;
            }
        } else {
            int got = poll_message(from_writer, &expected);
            if (got < 0) {
                fail("the writer closed its pipe without saying quit");
            }
            if (got > 0) {
                if (expected < 0) {
                    break;
                }
                counting = 1;
                n++; /* not idle */
            }
        }
        idle(n, &empty);
    }
    close_endpoint(&target);
    fi_close(&fabric->fid);
    fi_freeinfo(info);
    return 0;
}

/* The writer's side of "the target counted every imm so far": one process, the target thread's counter; two, the
 * target process's answer. Keeps the writer's CQ progressing meanwhile (manual progress). */
static void await_target(long target_imms, int *empty)
{
    if (to_target < 0) {
        while (atomic_load_explicit(&imms_seen, memory_order_acquire) < target_imms) {
            idle(drain_cq(writer.cq, NULL), empty);
        }
        return;
    }
    int64_t counted;
    for (;;) {
        int got = poll_message(from_target, &counted);
        if (got < 0) {
            target_gone("in the middle of a run");
        }
        if (got > 0) {
            break;
        }
        idle(drain_cq(writer.cq, NULL), empty);
    }
    if (counted < target_imms) {
        fail("the target process answered with fewer imms than it was asked to wait for");
    }
}

/* Posts `count` writes of `size` bytes with a window; returns when all completed locally and remotely. */
static void run_writes(size_t size, long count, int window, uint64_t flags, uint32_t imm)
{
    struct iovec iov = { .iov_base = writer.buf, .iov_len = size };
    void *desc = fi_mr_desc(writer.mr);
    struct fi_rma_iov rma = { .addr = target_base, .len = size, .key = target_key };
    struct fi_context2 contexts[1024];
    struct fi_msg_rma msg = {
        .msg_iov = &iov, .desc = &desc, .iov_count = 1, .addr = target_addr,
        .rma_iov = &rma, .rma_iov_count = 1, .data = imm,
    };
    int with_imm = (flags & FI_REMOTE_CQ_DATA) != 0;
    long target_imms = atomic_load(&imms_expected) + (with_imm ? count : 0);
    atomic_store(&imms_expected, target_imms);
    if (to_target >= 0 && with_imm) {
        int64_t total = target_imms; /* sent before the first post: the target is counting when they land */
        write_full(to_target, &total, sizeof total);
    }

    long posted = 0, completed = 0;
    int empty = 0;
    int w = window < 1024 ? window : 1024;
    while (completed < count) {
        while (posted < count && posted - completed < w) {
            msg.context = &contexts[posted % 1024];
            ssize_t rc = fi_writemsg(writer.ep, &msg, flags);
            if (rc == -FI_EAGAIN) {
                break;
            }
            if (rc < 0) {
                die("fi_writemsg", (int)rc);
            }
            posted++;
        }
        long n = drain_cq(writer.cq, NULL);
        completed += n;
        idle(n, &empty);
    }
    if (to_target < 0 || with_imm) {
        await_target(target_imms, &empty);
    }
}

static size_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    switch (*end) {
    case 'k': case 'K': v *= 1024; break;
    case 'm': case 'M': v *= 1024 * 1024; break;
    case 'g': case 'G': v *= 1024.0 * 1024 * 1024; break;
    default: break;
    }
    return (size_t)v;
}

/* "cuda" -> 0, "cuda:N" -> N; -2 when s is not a memory spec. */
static int parse_device(const char *s)
{
    if (strcmp(s, "cuda") == 0) {
        return 0;
    }
    if (strncmp(s, "cuda:", 5) == 0) {
        char *end;
        long n = strtol(s + 5, &end, 10);
        if (*end == '\0' && end != s + 5 && n >= 0 && n < 1 << 16) {
            return (int)n;
        }
    }
    return -2;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: fi_write_bench -p PROVIDER [-n NODE] [-s SIZE,...] [-i ITERATIONS] [-u WARMUP]\n"
            "                      [-w WINDOW] [-D] [-H] [-y] [-I] [-P] [-D cuda[:N]]\n"
            "  -p  libfabric provider, e.g. 'tcp;ofi_rxm' or shm\n"
            "  -n  node for fi_getinfo with FI_SOURCE (127.0.0.1 keeps tcp on loopback)\n"
            "  -s  comma-separated sizes with K/M/G suffixes (default 64K,1M,16M)\n"
            "  -i  timed writes per size (default 1000); -u warm-up writes per size (default 100)\n"
            "  -w  writes in flight (default 64, at most 1024)\n"
            "  -D  FI_DELIVERY_COMPLETE on every write (-D alone, not followed by cuda[:N])\n"
            "  -H  do not ask for FI_HMEM first (the Java engine does, then falls back without it)\n"
            "  -I  writes without imm (no FI_REMOTE_CQ_DATA): done when every write completed at the writer\n"
            "  -y  sched_yield() after 100 empty CQ polls in a row (for machines with fewer free cores than threads)\n"
            "  -P  two processes: the target in a forked child (same host), address, key and counts over pipes\n"
            "  -D cuda[:N]  source and target buffers in CUDA device memory of device N (default 0), loaded from\n"
            "      libcuda.so.1 at run time, registered with FI_HMEM_CUDA (and FI_HMEM_DEVICE_ONLY with -P);\n"
            "      needs FI_HMEM from a CUDA-enabled libfabric; GPU to GPU over shm needs -P (CUDA IPC)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct options o = { .iterations = 1000, .warmup = 100, .window = 64, .cuda_device = HOST_MEMORY };
    int c;
    /* '+': stop at the first non-option, so that "-D cuda:N" can take the word after -D by moving optind. */
    while ((c = getopt(argc, argv, "+p:n:s:i:u:w:DHyIP")) != -1) {
        switch (c) {
        case 'p': o.provider = optarg; break;
        case 'n': o.node = optarg; break;
        case 's': {
            char *list = strdup(optarg);
            for (char *tok = strtok(list, ","); tok && o.nsizes < MAX_SIZES; tok = strtok(NULL, ",")) {
                o.sizes[o.nsizes++] = parse_size(tok);
            }
            free(list);
            break;
        }
        case 'i': o.iterations = atol(optarg); break;
        case 'u': o.warmup = atol(optarg); break;
        case 'w': o.window = atoi(optarg); break;
        case 'D':
            if (optind < argc && strncmp(argv[optind], "cuda", 4) == 0) {
                int device = parse_device(argv[optind]);
                if (device < 0) {
                    fprintf(stderr, "fi_write_bench: -D %s: expected cuda or cuda:N\n", argv[optind]);
                    usage();
                }
                o.cuda_device = device;
                optind++;
            } else {
                o.delivery_complete = 1;
            }
            break;
        case 'H': o.no_hmem = 1; break;
        case 'y': o.yield = 1; break;
        case 'I': o.no_imm = 1; break;
        case 'P': o.two_processes = 1; break;
        default: usage();
        }
    }
    if (optind < argc) {
        fprintf(stderr, "fi_write_bench: unexpected argument '%s'\n", argv[optind]);
        usage();
    }
    if (o.provider == NULL || o.iterations < 1 || o.window < 1 || o.warmup < 0) {
        usage();
    }
    if (o.cuda_device != HOST_MEMORY && o.no_hmem) {
        fprintf(stderr, "fi_write_bench: -D cuda needs FI_HMEM: drop -H\n");
        usage();
    }
    if (o.nsizes == 0) {
        o.sizes[0] = 64 << 10; o.sizes[1] = 1 << 20; o.sizes[2] = 16 << 20; o.nsizes = 3;
    }
    size_t maxsize = 0;
    for (int i = 0; i < o.nsizes; i++) {
        maxsize = o.sizes[i] > maxsize ? o.sizes[i] : maxsize;
    }
    if (maxsize == 0) {
        usage();
    }

    yield_when_idle = o.yield;

    /* Debian's libfabric pulls in libpsm-infinipath, whose constructor hijacks SIGSEGV unless told not to. */
    setenv("IPATH_NO_BACKTRACE", "1", 1);

    if (o.cuda_device != HOST_MEMORY) {
        cuda_load(); /* dlopen only: no CUDA call before fork */
    }

    int device_only = 0;
    if (o.two_processes) {
        /* Fork before any libfabric or CUDA initialisation: neither survives a fork. */
        int up[2], down[2]; /* up: target -> writer; down: writer -> target */
        if (pipe(up) != 0 || pipe(down) != 0) {
            fail("pipe() failed");
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            fail("fork() failed");
        }
        if (pid == 0) {
            close(up[0]);
            close(down[1]);
            exit(target_process(&o, maxsize, up[1], down[0]));
        }
        close(up[1]);
        close(down[0]);
        signal(SIGPIPE, SIG_IGN); /* a dead target shows as a failed write with a message, not a silent death */
        target_pid = pid;
        from_target = up[0];
        to_target = down[1];
        /* The target goes first: a failure there (no GPU, no FI_HMEM) is reported once, by it. */
        struct target_hello hello;
        if (!read_full(from_target, &hello, sizeof hello)) {
            target_gone("before it was ready");
        }
        if (hello.magic != HELLO_MAGIC || hello.namelen > sizeof hello.name) {
            fail("the target process sent a malformed address message");
        }
        if (fcntl(from_target, F_SETFL, fcntl(from_target, F_GETFL) | O_NONBLOCK) != 0) {
            fail("fcntl(O_NONBLOCK) on the pipe failed");
        }
        if (o.cuda_device != HOST_MEMORY) {
            cuda_init(o.cuda_device);
        }
        device_only = 1;
        open_fabric(&o);
        open_endpoint(&writer, maxsize, 1, o.cuda_device, device_only);
        if (fi_av_insert(writer.av, hello.name, 1, &target_addr, 0, NULL) != 1) {
            die("fi_av_insert", -FI_EINVAL);
        }
        target_key = hello.key;
        target_base = hello.remote_base;
    } else {
        if (o.cuda_device != HOST_MEMORY) {
            cuda_init(o.cuda_device);
        }
        open_fabric(&o);
        open_endpoint(&writer, maxsize, 1, o.cuda_device, device_only);
        open_endpoint(&target, maxsize, 2, o.cuda_device, device_only);

        char name[256];
        size_t namelen = sizeof name;
        CHECK(fi_getname(&target.ep->fid, name, &namelen));
        if (fi_av_insert(writer.av, name, 1, &target_addr, 0, NULL) != 1) {
            die("fi_av_insert", -FI_EINVAL);
        }
        target_key = fi_mr_key(target.mr);
        target_base = target.remote_base;
    }
    char memory[300] = "host";
    if (o.cuda_device != HOST_MEMORY) {
        snprintf(memory, sizeof memory, "cuda:%d (%s)%s", o.cuda_device, cuda_device_name,
                 device_only ? " FI_HMEM_DEVICE_ONLY" : "");
    }
    fprintf(stderr, "# fi_write_bench provider=%s fabric=%s hmem=%d mr_mode=0x%x window=%d iterations=%ld "
            "delivery_complete=%d yield=%d no_imm=%d processes=%d memory=%s\n", info->fabric_attr->prov_name,
            info->fabric_attr->name, (info->caps & FI_HMEM) != 0, info->domain_attr->mr_mode, o.window, o.iterations,
            o.delivery_complete, o.yield, o.no_imm, o.two_processes ? 2 : 1, memory);

    pthread_t thread;
    if (!o.two_processes) {
        pthread_create(&thread, NULL, target_loop, NULL);
    }

    uint64_t flags = (o.no_imm ? 0 : FI_REMOTE_CQ_DATA) | FI_COMPLETION | (o.delivery_complete ? FI_DELIVERY_COMPLETE : 0);
    for (int i = 0; i < o.nsizes; i++) {
        size_t size = o.sizes[i];
        run_writes(size, o.warmup, o.window, flags, 7);
        double t0 = now_seconds();
        run_writes(size, o.iterations, o.window, flags, 7);
        double secs = now_seconds() - t0;
        printf("%zu\t%ld\t%.6f\t%.3f\t%.4f\n", size, o.iterations, secs,
               (double)size * o.iterations * 8 / secs / 1e9, o.iterations / secs / 1e6);
        fflush(stdout);
    }

    int status = 0;
    if (o.two_processes) {
        int64_t quit = -1;
        write_full(to_target, &quit, sizeof quit);
        close(to_target);
        if (waitpid(target_pid, &status, 0) != target_pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "%s: the target process did not end cleanly (wait status %d)\n", self, status);
            status = 1;
        }
    } else {
        atomic_store(&target_running, 0);
        pthread_join(thread, NULL);
        close_endpoint(&target);
    }
    close_endpoint(&writer);
    fi_close(&fabric->fid);
    fi_freeinfo(info);
    return status == 0 ? 0 : 1;
}
