/*
 * fi_write_bench: the C baseline for transfer-bench's `compare` command.
 *
 * The same pattern transfer-bench's local mode drives through the Java engine, straight over
 * libfabric: two RDM endpoints in one process (a writer and a target, each with its own domain, CQ
 * and AV), a window of fi_writemsg() with FI_REMOTE_CQ_DATA in flight, manual progress (each side's
 * thread reads its own CQ continuously), -FI_EAGAIN answered by reading completions and retrying.
 * A size is done when the writer has every local completion and the target has counted every
 * immediate, which is what the Java bench waits for too.
 *
 * Output: one tab-separated line per size on stdout:
 *   size_bytes  ops  seconds  gbps  mops
 * and diagnostics on stderr. Exit status 0 on success, 1 on any libfabric error.
 *
 * Build: gcc -O2 -Wall -o fi_write_bench fi_write_bench.c -lfabric -lpthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
};

struct endpoint {
    struct fid_domain *domain;
    struct fid_cq *cq;
    struct fid_av *av;
    struct fid_ep *ep;
    struct fid_mr *mr;
    char *buf;
    size_t buflen;
    uint64_t remote_base;   /* what a peer adds offsets to: VA with FI_MR_VIRT_ADDR, else 0 */
};

static struct fi_info *info;
static struct fid_fabric *fabric;
static struct endpoint writer, target;
static fi_addr_t target_addr;

/* Target thread state. */
static atomic_long imms_expected;
static atomic_long imms_seen;
static atomic_int target_running = 1;

static void die(const char *what, int rc)
{
    fprintf(stderr, "fi_write_bench: %s failed: %d (%s)\n", what, rc, fi_strerror(rc < 0 ? -rc : rc));
    exit(1);
}

#define CHECK(call) do { int rc_ = (int)(call); if (rc_ < 0) die(#call, rc_); } while (0)

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report_cq_error(struct fid_cq *cq)
{
    struct fi_cq_err_entry err;
    memset(&err, 0, sizeof err);
    if (fi_cq_readerr(cq, &err, 0) > 0) {
        fprintf(stderr, "fi_write_bench: completion error %d: %s\n", err.err,
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

static void open_endpoint(struct endpoint *e, size_t buflen, uint64_t requested_key)
{
    /* The engine's CQ depth: tx_size + rx_size (each at least 64), at most 32768. */
    size_t tx = info->tx_attr->size > 64 ? info->tx_attr->size : 64;
    size_t rx = info->rx_attr->size > 64 ? info->rx_attr->size : 64;
    struct fi_cq_attr cq_attr = { .size = tx + rx < 32768 ? tx + rx : 32768, .format = FI_CQ_FORMAT_DATA,
                                  .wait_obj = FI_WAIT_NONE };
    struct fi_av_attr av_attr = { .type = FI_AV_TABLE };

    CHECK(fi_domain(fabric, info, &e->domain, NULL));
    CHECK(fi_cq_open(e->domain, &cq_attr, &e->cq, NULL));
    CHECK(fi_av_open(e->domain, &av_attr, &e->av, NULL));
    CHECK(fi_endpoint(e->domain, info, &e->ep, NULL));
    CHECK(fi_ep_bind(e->ep, &e->cq->fid, FI_TRANSMIT | FI_RECV));
    CHECK(fi_ep_bind(e->ep, &e->av->fid, 0));
    CHECK(fi_enable(e->ep));

    e->buflen = buflen;
    if (posix_memalign((void **)&e->buf, 4096, buflen) != 0) {
        die("posix_memalign", -ENOMEM);
    }
    memset(e->buf, 0x5a, buflen);
    CHECK(fi_mr_reg(e->domain, e->buf, buflen, FI_WRITE | FI_REMOTE_WRITE | FI_SEND | FI_RECV, 0,
                    requested_key, 0, &e->mr, NULL));
    e->remote_base = (info->domain_attr->mr_mode & FI_MR_VIRT_ADDR) ? (uint64_t)(uintptr_t)e->buf : 0;
}

static void close_endpoint(struct endpoint *e)
{
    fi_close(&e->mr->fid);
    fi_close(&e->ep->fid);
    fi_close(&e->av->fid);
    fi_close(&e->cq->fid);
    fi_close(&e->domain->fid);
    free(e->buf);
}

/* The target's progress thread: reads its CQ continuously and counts immediates. */
static void *target_loop(void *arg)
{
    (void)arg;
    long seen = 0;
    int empty = 0;
    while (atomic_load_explicit(&target_running, memory_order_relaxed)) {
        long n = drain_cq(target.cq, &seen);
        if (n > 0) {
            atomic_store_explicit(&imms_seen, seen, memory_order_release);
        }
        idle(n, &empty);
    }
    return NULL;
}

/* Posts `count` writes of `size` bytes with a window; returns when all completed locally and remotely. */
static void run_writes(size_t size, long count, int window, uint64_t flags, uint32_t imm)
{
    struct iovec iov = { .iov_base = writer.buf, .iov_len = size };
    void *desc = fi_mr_desc(writer.mr);
    struct fi_rma_iov rma = { .addr = target.remote_base, .len = size, .key = fi_mr_key(target.mr) };
    struct fi_context2 contexts[1024];
    struct fi_msg_rma msg = {
        .msg_iov = &iov, .desc = &desc, .iov_count = 1, .addr = target_addr,
        .rma_iov = &rma, .rma_iov_count = 1, .data = imm,
    };
    long target_imms = atomic_load(&imms_expected) + ((flags & FI_REMOTE_CQ_DATA) ? count : 0);
    atomic_store(&imms_expected, target_imms);

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
    while (atomic_load_explicit(&imms_seen, memory_order_acquire) < target_imms) {
        idle(drain_cq(writer.cq, NULL), &empty); /* keep the writer's side progressing (manual progress) */
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

static void usage(void)
{
    fprintf(stderr,
            "usage: fi_write_bench -p PROVIDER [-n NODE] [-s SIZE,...] [-i ITERATIONS] [-u WARMUP]\n"
            "                      [-w WINDOW] [-D] [-H] [-y] [-I]\n"
            "  -p  libfabric provider, e.g. 'tcp;ofi_rxm' or shm\n"
            "  -n  node for fi_getinfo with FI_SOURCE (127.0.0.1 keeps tcp on loopback)\n"
            "  -s  comma-separated sizes with K/M/G suffixes (default 64K,1M,16M)\n"
            "  -D  FI_DELIVERY_COMPLETE on every write\n"
            "  -H  do not ask for FI_HMEM first (the Java engine does, then falls back without it)\n"
            "  -I  writes without imm (no FI_REMOTE_CQ_DATA): done when every write completed at the writer\n"
            "  -y  sched_yield() after 100 empty CQ polls in a row (for machines with fewer free cores than threads)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct options o = { .iterations = 1000, .warmup = 100, .window = 64 };
    int c;
    while ((c = getopt(argc, argv, "p:n:s:i:u:w:DHyI")) != -1) {
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
        case 'D': o.delivery_complete = 1; break;
        case 'H': o.no_hmem = 1; break;
        case 'y': o.yield = 1; break;
        case 'I': o.no_imm = 1; break;
        default: usage();
        }
    }
    if (o.provider == NULL || o.iterations < 1 || o.window < 1) {
        usage();
    }
    if (o.nsizes == 0) {
        o.sizes[0] = 64 << 10; o.sizes[1] = 1 << 20; o.sizes[2] = 16 << 20; o.nsizes = 3;
    }
    size_t maxsize = 0;
    for (int i = 0; i < o.nsizes; i++) {
        maxsize = o.sizes[i] > maxsize ? o.sizes[i] : maxsize;
    }

    yield_when_idle = o.yield;

    /* Debian's libfabric pulls in libpsm-infinipath, whose constructor hijacks SIGSEGV unless told not to. */
    setenv("IPATH_NO_BACKTRACE", "1", 1);

    /* The hints the Java engine's libfabric provider uses (transfer-efa InfoList): the same caps, modes, MR
     * modes and threading, FI_HMEM asked for first and dropped if nothing offers it. Same hints, same fi_info
     * entry, same protocol inside the provider. */
    int rc = -FI_ENODATA;
    for (int hmem = o.no_hmem ? 0 : 1; hmem >= 0 && rc != 0; hmem--) {
        struct fi_info *hints = fi_allocinfo();
        hints->caps = FI_MSG | FI_RMA | FI_WRITE | FI_REMOTE_WRITE | FI_SEND | FI_RECV | (hmem ? FI_HMEM : 0);
        hints->mode = FI_CONTEXT | FI_CONTEXT2;
        hints->ep_attr->type = FI_EP_RDM;
        hints->domain_attr->mr_mode = FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY
                                      | (hmem ? FI_MR_HMEM : 0);
        hints->domain_attr->threading = FI_THREAD_DOMAIN;
        hints->fabric_attr->prov_name = strdup(o.provider);
        rc = fi_getinfo(FI_VERSION(1, 17), o.node, NULL, o.node ? FI_SOURCE : 0, hints, &info);
        fi_freeinfo(hints);
    }
    CHECK(rc);
    CHECK(fi_fabric(info->fabric_attr, &fabric, NULL));

    open_endpoint(&writer, maxsize, 1);
    open_endpoint(&target, maxsize, 2);

    char name[256];
    size_t namelen = sizeof name;
    CHECK(fi_getname(&target.ep->fid, name, &namelen));
    if (fi_av_insert(writer.av, name, 1, &target_addr, 0, NULL) != 1) {
        die("fi_av_insert", -FI_EINVAL);
    }
    fprintf(stderr, "# fi_write_bench provider=%s fabric=%s hmem=%d mr_mode=0x%x window=%d iterations=%ld "
            "delivery_complete=%d yield=%d no_imm=%d\n", info->fabric_attr->prov_name, info->fabric_attr->name,
            (info->caps & FI_HMEM) != 0, info->domain_attr->mr_mode, o.window, o.iterations, o.delivery_complete,
            o.yield, o.no_imm);

    pthread_t thread;
    pthread_create(&thread, NULL, target_loop, NULL);

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

    atomic_store(&target_running, 0);
    pthread_join(thread, NULL);
    close_endpoint(&writer);
    close_endpoint(&target);
    fi_close(&fabric->fid);
    fi_freeinfo(info);
    return 0;
}
