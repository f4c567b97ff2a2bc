package dev.transferengine.efa.internal;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Small FFM helpers shared by the binding: downcall handles and views of native pointers.
 * Stateless and thread-safe.
 */
final class Native {
    static final Linker LINKER = Linker.nativeLinker();

    /**
     * Every byte of the address space, for copying between native addresses that were validated against a
     * registration first (the staged-receive copy). Never handed out of this package.
     */
    static final MemorySegment EVERYTHING = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private Native() {
    }

    /** An "address-first" handle: the first argument of every invocation is the function pointer. */
    static MethodHandle pointerCall(FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(descriptor);
    }

    /**
     * Same, for short non-blocking calls that never call back into Java (posts and CQ reads): skips the
     * thread-state transition, which saves most of the FFM overhead but holds off GC for the call.
     */
    static MethodHandle criticalPointerCall(FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(descriptor, Linker.Option.critical(false));
    }

    /** A view of {@code bytes} bytes at native {@code address}. */
    static MemorySegment view(long address, long bytes) {
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    /** The NUL-terminated string at {@code address}, or null for NULL. */
    static String string(long address) {
        return address == 0 ? null : MemorySegment.ofAddress(address).reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** Rethrows what an {@code invokeExact} threw: FFM downcalls throw only unchecked exceptions. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("unexpected checked exception from a downcall", t);
    }
}
