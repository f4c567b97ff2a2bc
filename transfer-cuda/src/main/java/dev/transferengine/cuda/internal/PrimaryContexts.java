package dev.transferengine.cuda.internal;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Every driver call that touches a device needs that device's context current on the calling thread. The
 * binding uses each device's primary context (the one the CUDA runtime and PyTorch also use), retained on
 * first use and kept for the life of the process. Which context this thread last made current is cached in a
 * thread-local, so the common case costs a thread-local read and no downcall.
 *
 * <p>If other code on the same thread switches contexts behind the binding's back, it must call
 * {@link #forgetCurrent()} afterwards. Thread-safe.
 */
public final class PrimaryContexts {
    private static final ThreadLocal<long[]> CURRENT = ThreadLocal.withInitial(() -> new long[1]);
    private static volatile AtomicLongArray retained;

    private PrimaryContexts() {
    }

    /** Makes {@code ordinal}'s primary context current on this thread. The ordinal must be valid. */
    public static void makeCurrent(int ordinal) {
        long context = context(ordinal);
        long[] current = CURRENT.get();
        if (current[0] != context) {
            CudaErrors.check(CudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent(device " + ordinal + ")");
            current[0] = context;
        }
    }

    /** Makes some context current unless this thread already has one of the binding's (device-independent calls). */
    public static void makeAnyCurrent() {
        if (CURRENT.get()[0] == 0) {
            makeCurrent(0);
        }
    }

    /** Forgets which context this thread has current, so the next call sets it again. */
    public static void forgetCurrent() {
        CURRENT.get()[0] = 0;
    }

    private static long context(int ordinal) {
        AtomicLongArray contexts = retained;
        if (contexts == null) {
            synchronized (PrimaryContexts.class) {
                if (retained == null) {
                    retained = new AtomicLongArray(CudaLibrary.deviceCount());
                }
                contexts = retained;
            }
        }
        long context = contexts.get(ordinal);
        if (context != 0) {
            return context;
        }
        synchronized (PrimaryContexts.class) {
            context = contexts.get(ordinal);
            if (context == 0) {
                context = DriverCalls.retainPrimaryContext(ordinal);
                contexts.set(ordinal, context);
            }
            return context;
        }
    }
}
