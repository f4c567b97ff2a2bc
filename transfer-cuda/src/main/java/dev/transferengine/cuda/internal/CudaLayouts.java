package dev.transferengine.cuda.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** The C structs the binding passes: compared with {@code sizeof}/{@code offsetof} in the header by {@code CudaLayoutTest}. */
public final class CudaLayouts {
    /**
     * {@code CUipcMemHandle}: 64 opaque bytes, passed to {@code cuIpcOpenMemHandle} <em>by value</em>, so the
     * downcall descriptor must name the struct (the linker then copies it to the stack as the ABI says), not a
     * pointer to it.
     */
    public static final StructLayout IPC_MEM_HANDLE = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(CudaConst.Ipc.CU_IPC_HANDLE_SIZE, JAVA_BYTE).withName("reserved"))
            .withName("CUipcMemHandle");

    /** {@code CUmemLocation}: a location type and an id (only a hint for managed memory in a batch copy). */
    public static final StructLayout MEM_LOCATION = MemoryLayout.structLayout(
            JAVA_INT.withName("type"), JAVA_INT.withName("id")).withName("CUmemLocation");

    /** {@code CUmemcpyAttributes}: how {@code cuMemcpyBatchAsync} treats the copies it applies to. */
    public static final StructLayout MEMCPY_ATTRIBUTES = MemoryLayout.structLayout(
            JAVA_INT.withName("srcAccessOrder"), MEM_LOCATION.withName("srcLocHint"),
            MEM_LOCATION.withName("dstLocHint"), JAVA_INT.withName("flags")).withName("CUmemcpyAttributes");

    private CudaLayouts() {
    }
}
