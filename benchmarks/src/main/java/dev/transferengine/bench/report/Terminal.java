package dev.transferengine.bench.report;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Whether stderr is a terminal, asked of libc's {@code isatty(2)} through FFM: Java itself can only tell
 * whether stdin and stdout together are a console, and a progress bar belongs on stderr only when a
 * person is watching it. Any failure (no native access, no libc symbol) answers "no".
 */
public final class Terminal {
    private static final int STDERR_FD = 2;

    private Terminal() {
    }

    public static boolean stderrIsTerminal() {
        try {
            Linker linker = Linker.nativeLinker();
            Optional<MethodHandle> isatty = linker.defaultLookup().find("isatty")
                    .map(symbol -> linker.downcallHandle(symbol,
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)));
            return isatty.isPresent() && (int) isatty.get().invokeExact(STDERR_FD) == 1;
        } catch (Throwable t) {
            return false;
        }
    }
}
