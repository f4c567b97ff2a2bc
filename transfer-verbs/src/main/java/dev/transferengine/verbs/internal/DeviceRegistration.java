package dev.transferengine.verbs.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.DeviceMemory;
import dev.transferengine.spi.RegisteredMemory;
import dev.transferengine.verbs.internal.ProtectionDomain.Registration;

/**
 * How a verbs domain registers device (GPU) memory. Two paths, in this order:
 * <ol>
 *   <li><b>dma-buf</b> (what a ConnectX-7 with a recent kernel and the open NVIDIA driver takes without
 *       nvidia-peermem): the range is widened to host-page boundaries inside its allocation, exported with
 *       {@link DeviceBackend#exportDmabuf}, and registered with
 *       {@code ibv_reg_dmabuf_mr(pd, offset = address - alignedStart, length, iova = address, fd, access)}: peers
 *       address it by its device pointer, exactly as host memory is addressed by its virtual address. The fd is
 *       closed right after the call (the kernel holds its own reference on the dma-buf for the MR's life).</li>
 *   <li><b>ibv_reg_mr on the device pointer</b> ({@code ibv_reg_mr_iova2}, iova = address): works where the
 *       nvidia-peermem module lets the kernel pin GPU pages. Tried only when the dma-buf path is unavailable:
 *       the range cannot be page-aligned inside its allocation, the export failed, or
 *       {@code ibv_reg_dmabuf_mr} answered {@code EOPNOTSUPP}/{@code ENOTSUP}, {@code ENOSYS},
 *       {@code EPROTONOSUPPORT} or {@code EINVAL} (the arguments are checked here first, so an EINVAL is the
 *       driver refusing dma-buf, as kernels did for software devices).</li>
 * </ol>
 * When both fail: {@link TransferException} {@link ErrorCategory#UNAVAILABLE} naming both causes (the engine then
 * stages through pinned host memory). Any other {@code ibv_reg_dmabuf_mr} errno (ENOMEM, EACCES, ...) is a
 * failure of a supported path and is thrown as {@link ErrorCategory#PROVIDER}, without a fallback.
 *
 * <p>The native calls go through {@link Calls} so that this logic runs in tests on machines without a device.
 * Stateless; the device pointer is never dereferenced.
 */
final class DeviceRegistration {
    /** Which path registered the memory. */
    enum Path {
        DMABUF("dma-buf"), DEVICE_POINTER("ibv_reg_mr on the device pointer");

        final String text;

        Path(String text) {
            this.text = text;
        }
    }

    /** The registration and the path that made it. */
    record Result(Registration registration, Path path) {
    }

    /** The native calls the two paths make. */
    interface Calls {
        /** {@code ibv_reg_dmabuf_mr}; failures as {@link TransferException} with the errno as provider code. */
        Registration registerDmabuf(long offset, long length, long iova, int fd, int access);

        /** {@code ibv_reg_mr_iova2(address, length, iova = address)}; failures as for {@link #registerDmabuf}. */
        Registration registerAddress(long address, long length, int access);

        /** Closes a dma-buf fd; returns 0 or the errno. */
        int close(int fd);
    }

    /** The calls on a real protection domain. */
    static Calls of(ProtectionDomain pd) {
        return new Calls() {
            @Override
            public Registration registerDmabuf(long offset, long length, long iova, int fd, int access) {
                return pd.registerDmabuf(offset, length, iova, fd, access);
            }

            @Override
            public Registration registerAddress(long address, long length, int access) {
                return pd.register(address, length, access);
            }

            @Override
            public int close(int fd) {
                return VerbsLibrary.close(fd);
            }
        };
    }

    private DeviceRegistration() {
    }

    /**
     * Checks {@code memory} before anything reaches native code: a non-empty range at a non-zero address that does
     * not wrap, a device ordinal, a backend, and an allocation of the same device that contains the range.
     */
    static void validate(DeviceMemory memory) {
        if (memory == null) {
            throw new InvalidRequestException("verbs: device memory is null");
        }
        long address = memory.address();
        long length = memory.lengthBytes();
        if (address == 0 || length <= 0) {
            throw new InvalidRequestException("verbs: device registration needs a non-empty range at a non-zero"
                    + " address, got " + describe(memory));
        }
        if (Long.compareUnsigned(address, -length) > 0) {
            throw new InvalidRequestException("verbs: device range wraps around: " + describe(memory));
        }
        if (memory.ordinal() < 0) {
            throw new InvalidRequestException("verbs: device ordinal " + memory.ordinal() + " is negative");
        }
        if (memory.backend() == null) {
            throw new InvalidRequestException("verbs: device memory without a device backend: " + describe(memory));
        }
        DeviceBackend.DeviceAllocation a = memory.allocation();
        if (a == null) {
            throw new InvalidRequestException("verbs: device memory without its allocation: " + describe(memory));
        }
        if (a.ordinal() != memory.ordinal()) {
            throw new InvalidRequestException("verbs: " + describe(memory) + " lies in an allocation of device "
                    + a.ordinal());
        }
        if (a.lengthBytes() <= 0 || !RegisteredMemory.contains(a.base(), a.lengthBytes(), address, length)) {
            throw new InvalidRequestException("verbs: " + describe(memory) + " is not inside its allocation [0x"
                    + Long.toHexString(a.base()) + ", +" + a.lengthBytes() + ")");
        }
    }

    /**
     * [address, +length) widened to multiples of {@code pageSize} (a power of two), or null when the widened range
     * is not inside the allocation (then no dma-buf can be exported for it). Returns {start, length}.
     */
    static long[] pageAligned(long address, long length, DeviceBackend.DeviceAllocation allocation, long pageSize) {
        if (pageSize <= 0 || Long.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("page size " + pageSize);
        }
        long mask = pageSize - 1;
        long start = address & ~mask;
        long end = address + length;
        if (Long.compareUnsigned(end, -pageSize) > 0) {
            return null; // rounding up would wrap
        }
        end = (end + mask) & ~mask;
        long alignedLength = end - start;
        return RegisteredMemory.contains(allocation.base(), allocation.lengthBytes(), start, alignedLength)
                ? new long[]{start, alignedLength} : null;
    }

    /**
     * Registers {@code memory} with {@code access}, dma-buf first, then the device pointer.
     *
     * @param device the device name, for messages
     * @throws InvalidRequestException for a bad range (see {@link #validate})
     * @throws TransferException UNAVAILABLE when neither path can register device memory here; PROVIDER when
     *                           {@code ibv_reg_dmabuf_mr} failed for another reason than missing support
     */
    static Result register(DeviceMemory memory, int access, long pageSize, Calls calls, String device) {
        validate(memory);
        long address = memory.address();
        long length = memory.lengthBytes();
        String dmabufFailure;
        TransferException dmabufCause = null;
        long[] aligned = pageAligned(address, length, memory.allocation(), pageSize);
        if (aligned == null) {
            dmabufFailure = "the range cannot be widened to " + pageSize + "-byte pages inside its allocation [0x"
                    + Long.toHexString(memory.allocation().base()) + ", +" + memory.allocation().lengthBytes() + ")";
        } else {
            int fd = -1;
            String exportFailure = null;
            try {
                fd = memory.backend().exportDmabuf(aligned[0], aligned[1]);
                if (fd < 0) {
                    exportFailure = memory.backend().name() + " returned dma-buf fd " + fd;
                }
            } catch (TransferException e) {
                dmabufCause = e;
                exportFailure = e.getMessage();
            } catch (UnsupportedOperationException e) {
                exportFailure = memory.backend().name() + " cannot export dma-bufs: " + e.getMessage();
            }
            if (exportFailure != null) {
                dmabufFailure = "exporting [0x" + Long.toHexString(aligned[0]) + ", +" + aligned[1]
                        + ") as a dma-buf failed: " + exportFailure;
            } else {
                try {
                    Registration r = calls.registerDmabuf(address - aligned[0], length, address, fd, access);
                    return new Result(r, Path.DMABUF);
                } catch (TransferException e) {
                    if (!dmabufUnsupported(e.providerCode())) {
                        throw new TransferException(ErrorCategory.PROVIDER, "verbs: registering " + describe(memory)
                                + " on " + device + " through a dma-buf failed", e.providerCode(),
                                e.providerMessage(), e);
                    }
                    dmabufCause = e;
                    dmabufFailure = e.getMessage();
                } finally {
                    calls.close(fd); // the MR holds its own reference on the dma-buf
                }
            }
        }
        try {
            return new Result(calls.registerAddress(address, length, access), Path.DEVICE_POINTER);
        } catch (TransferException e) {
            if (e instanceof InvalidRequestException) {
                throw e;
            }
            TransferException unavailable = new TransferException(ErrorCategory.UNAVAILABLE, "verbs: " + device
                    + " cannot register " + describe(memory) + " (the engine stages it through host memory instead):"
                    + " dma-buf path: " + withoutPrefix(dmabufFailure) + "; then ibv_reg_mr_iova2 on the device"
                    + " pointer (needs nvidia-peermem) failed", e.providerCode(), e.providerMessage(),
                    dmabufCause != null ? dmabufCause : e);
            if (dmabufCause != null) {
                unavailable.addSuppressed(e);
            }
            throw unavailable;
        }
    }

    /** The errnos with which {@code ibv_reg_dmabuf_mr} says "no dma-buf support here" (then try the pointer). */
    static boolean dmabufUnsupported(int errno) {
        return errno == NativeErrors.EOPNOTSUPP || errno == NativeErrors.ENOSYS
                || errno == NativeErrors.EPROTONOSUPPORT || errno == NativeErrors.EINVAL;
    }

    private static String withoutPrefix(String message) {
        return message != null && message.startsWith("verbs: ") ? message.substring("verbs: ".length()) : message;
    }

    static String describe(DeviceMemory m) {
        return "device memory [0x" + Long.toHexString(m.address()) + ", +" + m.lengthBytes() + ") of device "
                + m.ordinal();
    }
}
