package dev.transferengine.cuda;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MalformedEncodingException;
import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.cuda.internal.CudaConst;
import dev.transferengine.cuda.internal.CudaDriver;
import dev.transferengine.cuda.internal.CudaErrors;
import dev.transferengine.cuda.internal.DriverCalls;
import dev.transferengine.cuda.internal.PrimaryContexts;

import java.util.HexFormat;

/**
 * Sharing device memory between processes on one host ({@code cuIpcGetMemHandle} /
 * {@code cuIpcOpenMemHandle}): the exporter sends the 64-byte handle by any means, the importer opens it and
 * gets its own address for the same memory. A process cannot open its own handles. Thread-safe.
 */
public final class CudaIpc {
    /** Bytes in a handle ({@code CU_IPC_HANDLE_SIZE}). */
    public static final int HANDLE_BYTES = CudaConst.Ipc.CU_IPC_HANDLE_SIZE;

    private CudaIpc() {
    }

    /**
     * The IPC handle of the allocation containing {@code devicePointer} ({@code cuMemAlloc} memory only).
     *
     * @throws InvalidRequestException      when the address is not device memory
     * @throws CudaException                when the driver refuses (for example for VMM memory)
     * @throws ProviderUnavailableException when CUDA is unavailable
     */
    public static byte[] handle(long devicePointer) {
        if (devicePointer == 0) {
            throw new InvalidRequestException("device pointer is null");
        }
        PointerInfo info = Cuda.pointerInfo(devicePointer);
        if (!info.isPlainDeviceMemory()) {
            throw new InvalidRequestException("0x" + Long.toHexString(devicePointer) + " is not device memory ("
                    + info.memoryType() + (info.managed() ? ", managed" : "") + ")");
        }
        PrimaryContexts.makeCurrent(info.ordinal());
        return DriverCalls.ipcHandle(devicePointer);
    }

    /** {@link #handle} as lower-case hex (128 characters). */
    public static String handleHex(long devicePointer) {
        return HexFormat.of().formatHex(handle(devicePointer));
    }

    /**
     * Opens another process's handle on device {@code ordinal} ({@code CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS}).
     *
     * @throws InvalidRequestException      for a handle that is not 64 bytes or an ordinal that does not exist
     * @throws CudaException                when the driver refuses the handle
     * @throws ProviderUnavailableException when CUDA is unavailable
     */
    public static Mapping open(byte[] handle, int ordinal) {
        if (handle == null || handle.length != HANDLE_BYTES) {
            throw new InvalidRequestException("a CUDA IPC handle has " + HANDLE_BYTES + " bytes, got "
                    + (handle == null ? "null" : handle.length));
        }
        Checks.availableDevice(ordinal);
        PrimaryContexts.makeCurrent(ordinal);
        return new Mapping(ordinal, DriverCalls.ipcOpen(handle.clone()));
    }

    /** {@link #open(byte[], int)} for a handle in hex. */
    public static Mapping open(String handleHex, int ordinal) {
        byte[] bytes;
        try {
            bytes = HexFormat.of().parseHex(handleHex);
        } catch (IllegalArgumentException e) {
            throw new MalformedEncodingException("CUDA IPC handle: " + e.getMessage());
        }
        return open(bytes, ordinal);
    }

    /** Another process's memory mapped into this one; {@link #close()} unmaps it. Idempotent close. */
    public static final class Mapping extends NativeResource {
        private final int ordinal;
        private final long address;

        private Mapping(int ordinal, long address) {
            this.ordinal = ordinal;
            this.address = address;
        }

        /** This process's device pointer for the shared memory. */
        public long address() {
            return address;
        }

        /** The device it was opened on. */
        public int ordinal() {
            return ordinal;
        }

        @Override
        void release() {
            PrimaryContexts.makeCurrent(ordinal);
            CudaErrors.check(CudaDriver.cuIpcCloseMemHandle(address), "cuIpcCloseMemHandle");
        }

        @Override
        String describe() {
            return "IPC mapping 0x" + Long.toHexString(address) + " on device " + ordinal;
        }
    }
}
