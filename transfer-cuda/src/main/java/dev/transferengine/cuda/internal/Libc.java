package dev.transferengine.cuda.internal;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** The host page size, from libc's {@code sysconf(_SC_PAGESIZE)} (dma-buf ranges must be page aligned). */
public final class Libc {
    private static final int SC_PAGESIZE = 30; // Linux, all architectures
    private static final long PAGE_SIZE = pageSizeFromLibc();

    private Libc() {
    }

    /** Bytes in a host page (4096 on x86-64; may be 64 KiB on aarch64). */
    public static long pageSize() {
        return PAGE_SIZE;
    }

    private static long pageSizeFromLibc() {
        Linker linker = Linker.nativeLinker();
        MethodHandle sysconf = linker.downcallHandle(linker.defaultLookup().find("sysconf").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
        try {
            long size = (long) sysconf.invokeExact(SC_PAGESIZE);
            return size > 0 ? size : 4096;
        } catch (Throwable t) {
            return 4096;
        }
    }
}
