package dev.transferengine.testing;

import org.junit.jupiter.api.Assumptions;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Bytes the current thread allocated: {@code com.sun.management.ThreadMXBean.getCurrentThreadAllocatedBytes()},
 * reached reflectively (the modules under test do not read {@code java.management}, so test code compiled into
 * them cannot name it, while the class-path test JVM has it). A JVM without the counter aborts the test with
 * the reason. One meter for every provider's allocation test.
 */
public record AllocationMeter(Object bean, MethodHandle allocatedBytes) {

    /** The meter, or an aborted test where the JVM has no per-thread allocation counter. */
    public static AllocationMeter forCurrentThread() {
        try {
            Class<?> factory = Class.forName("java.lang.management.ManagementFactory");
            Object bean = factory.getMethod("getThreadMXBean").invoke(null);
            Class<?> extended = Class.forName("com.sun.management.ThreadMXBean");
            Assumptions.assumeTrue(extended.isInstance(bean), "no per-thread allocation counter here");
            Assumptions.assumeTrue((boolean) extended.getMethod("isThreadAllocatedMemorySupported").invoke(bean),
                    "per-thread allocation counting unsupported");
            extended.getMethod("setThreadAllocatedMemoryEnabled", boolean.class).invoke(bean, true);
            MethodHandle handle = MethodHandles.publicLookup()
                    .findVirtual(extended, "getCurrentThreadAllocatedBytes", MethodType.methodType(long.class))
                    .asType(MethodType.methodType(long.class, Object.class));
            return new AllocationMeter(bean, handle);
        } catch (ReflectiveOperationException e) {
            Assumptions.abort("cannot reach the thread allocation counter: " + e);
            throw new AssertionError("unreachable", e);
        }
    }

    /** Bytes this thread allocated so far. */
    public long bytes() {
        try {
            return (long) allocatedBytes.invokeExact(bean);
        } catch (Throwable e) {
            throw new AssertionError(e);
        }
    }
}
