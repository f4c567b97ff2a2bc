package dev.transferengine.efa.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Calls through libfabric's ops tables: nearly every {@code fi_*} call is a {@code static inline} in the
 * headers that reads a function pointer from the object and calls it. One cached "address-first" downcall
 * handle per C signature (the function pointer is the first argument); the pointers themselves are read
 * once per object, after the object is enabled, by {@link #function}.
 *
 * <p>Stateless and thread-safe; the objects called on are not (one owner thread per domain).
 */
final class FiCalls {
    private FiCalls() {
    }

    /** {@code int (*)(struct fid *)}: close. */
    private static final MethodHandle INT_P = Native.pointerCall(FunctionDescriptor.of(JAVA_INT, ADDRESS));
    /** {@code int (*)(struct fid *, struct fid *, uint64_t)}: bind. */
    private static final MethodHandle INT_PPJ = Native.pointerCall(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    /** {@code int (*)(struct fid *, int, void *)}: control (fi_enable). */
    private static final MethodHandle INT_PIP = Native.pointerCall(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    /** {@code int (*)(void *, void *, void **, void *)}: domain, av_open, cq_open, endpoint. */
    private static final MethodHandle INT_PPPP = Native.pointerCall(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    /** {@code int (*)(fid_t, void *, size_t *)}: getname. */
    private static final MethodHandle INT_PPP = Native.pointerCall(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    /** {@code int (*reg)(struct fid *, const void *, size_t, uint64_t, uint64_t, uint64_t, uint64_t, struct fid_mr **, void *)}. */
    private static final MethodHandle MR_REG = Native.pointerCall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS));
    /** {@code int (*regattr)(struct fid *, const struct fi_mr_attr *, uint64_t flags, struct fid_mr **)}. */
    private static final MethodHandle MR_REGATTR = Native.pointerCall(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
            JAVA_LONG, ADDRESS));
    /** {@code int (*insert)(struct fid_av *, const void *, size_t, fi_addr_t *, uint64_t, void *)}. */
    private static final MethodHandle AV_INSERT = Native.pointerCall(FunctionDescriptor.of(JAVA_INT, ADDRESS,
            ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
    /**
     * {@code ssize_t (*)(void *, const void *, uint64_t or size_t)}: writemsg, sendmsg, recvmsg and cq read
     * share it. Critical: these are the data path, short and non-blocking, and never call back.
     */
    private static final MethodHandle SSIZE_PPJ_CRITICAL = Native.criticalPointerCall(
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    /**
     * The same signature, not critical: cq readerr (rare, may copy provider error data), and the data path of
     * providers that can block in it for good (shm).
     */
    private static final MethodHandle SSIZE_PPJ = Native.pointerCall(
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    /** {@code const char *(*strerror)(struct fid_cq *, int, const void *, char *, size_t)}. */
    private static final MethodHandle CQ_STRERROR = Native.pointerCall(FunctionDescriptor.of(ADDRESS, ADDRESS,
            JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));

    /**
     * Reads function pointer {@code op} of the ops table whose pointer sits at {@code opsField} in
     * {@code object}, with the check the headers' {@code FI_CHECK_OP} does: the table exists, its
     * {@code size} covers the member, and the member is not NULL. Providers may allocate short tables.
     */
    static MemorySegment function(MemorySegment object, long opsField, StructLayout opsLayout, String op) {
        long ops = object.get(JAVA_LONG, opsField);
        long offset = FiLayouts.offset(opsLayout, op);
        if (ops == 0) {
            throw missing(opsLayout, op, "no ops table");
        }
        MemorySegment table = Native.view(ops, offset + ADDRESS.byteSize());
        long size = table.get(JAVA_LONG, 0);
        if (Long.compareUnsigned(size, offset) <= 0) {
            throw missing(opsLayout, op, "ops table of " + size + " bytes");
        }
        long fn = table.get(JAVA_LONG, offset);
        if (fn == 0) {
            throw missing(opsLayout, op, "NULL entry");
        }
        return MemorySegment.ofAddress(fn);
    }

    private static TransferException missing(StructLayout opsLayout, String op, String why) {
        return new TransferException(ErrorCategory.PROVIDER, "the libfabric provider does not implement "
                + opsLayout.name().orElse("ops") + "." + op + " (" + why + ")", -FiConst.Err.FI_ENOSYS,
                "Function not implemented", null);
    }

    static int close(MemorySegment fn, MemorySegment fid) {
        try {
            return (int) INT_P.invokeExact(fn, fid);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    static int bind(MemorySegment fn, MemorySegment fid, MemorySegment boundFid, long flags) {
        try {
            return (int) INT_PPJ.invokeExact(fn, fid, boundFid, flags);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    static int control(MemorySegment fn, MemorySegment fid, int command, MemorySegment arg) {
        try {
            return (int) INT_PIP.invokeExact(fn, fid, command, arg);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** fi_domain / fi_av_open / fi_cq_open / fi_endpoint: {@code fn(parent, attrOrInfo, &out, context)}. */
    static int open(MemorySegment fn, MemorySegment parent, MemorySegment attr, MemorySegment out,
                    MemorySegment context) {
        try {
            return (int) INT_PPPP.invokeExact(fn, parent, attr, out, context);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    static int getname(MemorySegment fn, MemorySegment fid, MemorySegment addr, MemorySegment addrLen) {
        try {
            return (int) INT_PPP.invokeExact(fn, fid, addr, addrLen);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    static int mrReg(MemorySegment fn, MemorySegment domainFid, MemorySegment buf, long len, long access,
                     long offset, long requestedKey, long flags, MemorySegment mrOut) {
        try {
            return (int) MR_REG.invokeExact(fn, domainFid, buf, len, access, offset, requestedKey, flags, mrOut,
                    MemorySegment.NULL);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** fi_mr_regattr: {@code domain->mr->regattr(&domain->fid, attr, flags, &mr)}. */
    static int mrRegattr(MemorySegment fn, MemorySegment domainFid, MemorySegment attr, long flags,
                         MemorySegment mrOut) {
        try {
            return (int) MR_REGATTR.invokeExact(fn, domainFid, attr, flags, mrOut);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    static int avInsert(MemorySegment fn, MemorySegment av, MemorySegment addr, MemorySegment fiAddrOut) {
        try {
            return (int) AV_INSERT.invokeExact(fn, av, addr, 1L, fiAddrOut, 0L, MemorySegment.NULL);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * writemsg / sendmsg / recvmsg: {@code fn(ep, msg, flags)}; cq read: {@code fn(cq, buf, count)}. {@code critical}
     * false for providers whose data path can block for good (shm: {@link FiEndpoint#criticalCalls}).
     */
    static long dataPath(MemorySegment fn, MemorySegment object, MemorySegment arg, long flagsOrCount,
                         boolean critical) {
        try {
            return critical ? (long) SSIZE_PPJ_CRITICAL.invokeExact(fn, object, arg, flagsOrCount)
                    : (long) SSIZE_PPJ.invokeExact(fn, object, arg, flagsOrCount);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    static long cqReadErr(MemorySegment fn, MemorySegment cq, MemorySegment entry) {
        try {
            return (long) SSIZE_PPJ.invokeExact(fn, cq, entry, 0L);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    static String cqStrerror(MemorySegment fn, MemorySegment cq, int provErrno, long errData, MemorySegment buf) {
        try {
            MemorySegment s = (MemorySegment) CQ_STRERROR.invokeExact(fn, cq, provErrno,
                    MemorySegment.ofAddress(errData), buf, buf.byteSize());
            return Native.string(s.address());
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
