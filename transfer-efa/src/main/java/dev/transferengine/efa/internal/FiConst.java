package dev.transferengine.efa.internal;

/**
 * The libfabric (1.17 API) and libc constants the binding uses, named exactly as in C so that
 * {@code LibfabricLayoutTest} can compare every one with the C probe in {@code native-headers/libfabric}.
 *
 * <p>They are grouped by the field they belong to because libfabric reuses bits between groups
 * (FI_CONTEXT == FI_DIRECTED_RECV, FI_RX_CQ_DATA == FI_RMA_EVENT, FI_CONTEXT2 == FI_LOCAL_COMM): a
 * mode bit OR-ed into caps asks for something else entirely.
 */
public final class FiConst {
    private FiConst() {
    }

    /** The API version the layouts were written for; passed to fi_getinfo (an ABI contract). */
    public static final class Version {
        public static final int FI_MAJOR_VERSION = 1;
        public static final int FI_MINOR_VERSION = 17;
        public static final int API = (FI_MAJOR_VERSION << 16) | FI_MINOR_VERSION;

        private Version() {
        }
    }

    /** Bits of {@code fi_info.caps}. */
    public static final class Cap {
        public static final long FI_MSG = 1L << 1;
        public static final long FI_RMA = 1L << 2;
        public static final long FI_READ = 1L << 8;
        public static final long FI_WRITE = 1L << 9;
        public static final long FI_RECV = 1L << 10;
        public static final long FI_SEND = 1L << 11;
        public static final long FI_TRANSMIT = FI_SEND;
        public static final long FI_REMOTE_READ = 1L << 12;
        public static final long FI_REMOTE_WRITE = 1L << 13;
        public static final long FI_HMEM = 1L << 47;
        /**
         * fi_mr_regattr flag: the memory is device-only (not host-accessible). shm uses its CUDA IPC protocol only
         * for registrations with this flag; without it device writes go through SAR bounce buffers with a
         * cudaMemcpy and a device synchronise per chunk (about 1 GB/s on an H200, docs/gpu.md).
         */
        public static final long FI_HMEM_DEVICE_ONLY = 1L << 46;
        public static final long FI_LOCAL_COMM = 1L << 51;
        public static final long FI_REMOTE_COMM = 1L << 52;
        public static final long FI_SOURCE = 1L << 57;

        private Cap() {
        }
    }

    /** Operation flags (posts) and completion-entry flags. */
    public static final class Flag {
        public static final long FI_MULTI_RECV = 1L << 16;
        public static final long FI_REMOTE_CQ_DATA = 1L << 17;
        public static final long FI_COMPLETION = 1L << 24;
        public static final long FI_TRANSMIT_COMPLETE = 1L << 27;
        public static final long FI_DELIVERY_COMPLETE = 1L << 28;

        private Flag() {
        }
    }

    /** Bits of {@code fi_info.mode}: what the application promises to do for the provider. */
    public static final class Mode {
        public static final long FI_BUFFERED_RECV = 1L << 51;
        public static final long FI_CONTEXT2 = 1L << 52;
        public static final long FI_LOCAL_MR = 1L << 55;
        public static final long FI_RX_CQ_DATA = 1L << 56;
        public static final long FI_ASYNC_IOV = 1L << 57;
        public static final long FI_MSG_PREFIX = 1L << 58;
        public static final long FI_CONTEXT = 1L << 59;

        private Mode() {
        }
    }

    /** Bits of {@code fi_domain_attr.mr_mode} (an int). */
    public static final class MrMode {
        public static final int FI_MR_LOCAL = 1 << 2;
        public static final int FI_MR_RAW = 1 << 3;
        public static final int FI_MR_VIRT_ADDR = 1 << 4;
        public static final int FI_MR_ALLOCATED = 1 << 5;
        public static final int FI_MR_PROV_KEY = 1 << 6;
        public static final int FI_MR_MMU_NOTIFY = 1 << 7;
        public static final int FI_MR_RMA_EVENT = 1 << 8;
        public static final int FI_MR_ENDPOINT = 1 << 9;
        public static final int FI_MR_HMEM = 1 << 10;

        private MrMode() {
        }
    }

    /** Enum values (4-byte C enums) and special values. */
    public static final class Enum {
        public static final int FI_EP_RDM = 3;
        public static final int FI_CQ_FORMAT_DATA = 3;
        public static final int FI_AV_UNSPEC = 0;
        public static final int FI_AV_MAP = 1;
        public static final int FI_AV_TABLE = 2;
        public static final int FI_PROGRESS_AUTO = 1;
        public static final int FI_PROGRESS_MANUAL = 2;
        public static final int FI_THREAD_SAFE = 1;
        public static final int FI_THREAD_DOMAIN = 3;
        public static final int FI_WAIT_NONE = 0;
        /** fi_control command of fi_enable. */
        public static final int FI_ENABLE = 6;
        public static final int FI_SOCKADDR_IN = 2;
        public static final int FI_SOCKADDR_IN6 = 3;
        public static final int FI_ADDR_STR = 9;
        public static final int FI_ADDR_EFA = 12;
        public static final int FI_TYPE_INFO = 0;
        /** {@code enum fi_hmem_iface} values for {@code fi_mr_attr.iface}. */
        public static final int FI_HMEM_SYSTEM = 0;
        public static final int FI_HMEM_CUDA = 1;
        public static final long FI_ADDR_UNSPEC = -1L;

        private Enum() {
        }
    }

    /** Error numbers; libfabric calls return them negated. */
    public static final class Err {
        public static final int FI_EPERM = 1;
        public static final int FI_ENOENT = 2;
        public static final int FI_EIO = 5;
        public static final int FI_EAGAIN = 11;
        public static final int FI_EACCES = 13;
        public static final int FI_EFAULT = 14;
        public static final int FI_EINVAL = 22;
        public static final int FI_ENOSYS = 38;
        public static final int FI_ENODATA = 61;
        public static final int FI_EOPNOTSUPP = 95;
        public static final int FI_ECONNABORTED = 103;
        public static final int FI_ECONNRESET = 104;
        public static final int FI_ENOTCONN = 107;
        public static final int FI_ETIMEDOUT = 110;
        public static final int FI_ECONNREFUSED = 111;
        public static final int FI_EHOSTUNREACH = 113;
        public static final int FI_EREMOTEIO = 121;
        public static final int FI_ECANCELED = 125;
        public static final int FI_EKEYREJECTED = 129;
        public static final int FI_EAVAIL = 259;
        public static final int FI_ETRUNC = 265;
        public static final int FI_ENOKEY = 266;
        public static final int FI_EOVERRUN = 268;

        private Err() {
        }
    }

    /** Linux signal numbers whose handlers the loader and endpoint creation guard. */
    public static final class Sig {
        public static final int SIGHUP = 1;
        public static final int SIGINT = 2;
        public static final int SIGQUIT = 3;
        public static final int SIGILL = 4;
        public static final int SIGABRT = 6;
        public static final int SIGBUS = 7;
        public static final int SIGFPE = 8;
        public static final int SIGSEGV = 11;
        public static final int SIGTERM = 15;

        private Sig() {
        }
    }

    /** The nested classes the layout test walks; constants outside them are derived, not C names. */
    public static final Class<?>[] GROUPS = {Cap.class, Flag.class, Mode.class, MrMode.class, Enum.class, Err.class,
            Sig.class, Version.class};
}
