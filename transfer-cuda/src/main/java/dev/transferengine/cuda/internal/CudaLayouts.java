package dev.transferengine.cuda.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/** The one C struct the binding passes: compared with {@code sizeof} in the header by {@code CudaLayoutTest}. */
public final class CudaLayouts {
    /**
     * {@code CUipcMemHandle}: 64 opaque bytes, passed to {@code cuIpcOpenMemHandle} <em>by value</em>, so the
     * downcall descriptor must name the struct (the linker then copies it to the stack as the ABI says), not a
     * pointer to it.
     */
    public static final StructLayout IPC_MEM_HANDLE = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(CudaConst.Ipc.CU_IPC_HANDLE_SIZE, JAVA_BYTE).withName("reserved"))
            .withName("CUipcMemHandle");

    private CudaLayouts() {
    }
}
