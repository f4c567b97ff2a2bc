package dev.transferengine.efa.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Keeps closed shared-memory endpoints mapped while other endpoints of this process may still point into them.
 *
 * <p>Why: when two shm endpoints live in one process, libfabric's shm provider (1.17) does not map the peer's
 * region a second time; it hands out the peer endpoint's own mapping. Closing that endpoint unmaps it, and the
 * next write to it from the other endpoint, or the other endpoint's progress writing a response into it, crashes
 * the JVM (SIGSEGV in {@code pthread_spin_lock}). So while any endpoint of a shm-using provider is open in this
 * process, the native close of the others is deferred; when the last one closes, everything deferred is closed,
 * in order. A JVM that exits with endpoints still open or retired has their {@code /dev/shm} files removed by a
 * shutdown hook (unlinking does not unmap anything; without it every such exit leaves a 16 MiB file behind).
 *
 * <p>Applies to the shm provider and to efa, which uses shm inside for peers on the same node. Thread-safe.
 */
final class RetiredEndpoints {
    private static int live;
    private static final List<Runnable> deferred = new ArrayList<>();
    private static final List<Path> shmFiles = new ArrayList<>();
    private static boolean hookInstalled;

    private RetiredEndpoints() {
    }

    /** Whether endpoints of {@code providerName} need this. */
    static boolean applies(String providerName) {
        String p = providerName == null ? "" : providerName.toLowerCase(Locale.ROOT);
        return p.startsWith("shm") || p.startsWith("efa");
    }

    /** An endpoint opened; {@code shmFile} (or null) is removed at exit unless it was closed by then. */
    static synchronized void opened(Path shmFile) {
        live++;
        if (shmFile != null) {
            shmFiles.add(shmFile);
            installHook();
        }
    }

    /**
     * An endpoint was closed by its owner: {@code nativeClose} runs now if no other endpoint is open, otherwise
     * when the last one closes.
     *
     * @param shmFile the endpoint's file under /dev/shm (as given to {@link #opened}), or null
     */
    static void closed(Runnable nativeClose, Path shmFile) {
        List<Runnable> now;
        synchronized (RetiredEndpoints.class) {
            live--;
            deferred.add(shmFile == null ? nativeClose : () -> {
                nativeClose.run();
                forget(shmFile);
            });
            now = drainIfIdle();
        }
        now.forEach(Runnable::run);
    }

    /**
     * {@code file} is removed at exit unless {@link #forget} was called for it first (key tables, {@link KeyTable}).
     */
    static synchronized void unlinkAtExit(Path file) {
        shmFiles.add(file);
        installHook();
    }

    /** {@code shmFile} was removed by its owner: nothing to do at exit. */
    static synchronized void forget(Path shmFile) {
        shmFiles.remove(shmFile);
    }

    /** A fabric (or anything else the endpoints depend on) to close after them. */
    static void closeAfterEndpoints(Runnable nativeClose) {
        List<Runnable> now;
        synchronized (RetiredEndpoints.class) {
            deferred.add(nativeClose);
            now = drainIfIdle();
        }
        now.forEach(Runnable::run);
    }

    private static List<Runnable> drainIfIdle() {
        if (live > 0) {
            return List.of();
        }
        List<Runnable> all = List.copyOf(deferred);
        deferred.clear();
        return all;
    }

    private static void installHook() {
        if (hookInstalled) {
            return;
        }
        hookInstalled = true;
        Runtime.getRuntime().addShutdownHook(new Thread(RetiredEndpoints::unlinkLeftovers, "te-shm-unlink"));
    }

    private static void unlinkLeftovers() {
        List<Path> files;
        synchronized (RetiredEndpoints.class) {
            files = List.copyOf(shmFiles);
        }
        for (Path f : files) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException | SecurityException e) {
                // best effort at exit
            }
        }
    }

    /** The /dev/shm file behind an shm address ("fi_shm://PID:UID:IDX" with a NUL), or null for other formats. */
    static Path shmFileOf(byte[] address) {
        String s = new String(address, java.nio.charset.StandardCharsets.US_ASCII);
        int nul = s.indexOf('\0');
        s = nul < 0 ? s : s.substring(0, nul);
        String prefix = "fi_shm://";
        if (!s.startsWith(prefix) || s.length() == prefix.length() || s.indexOf('/', prefix.length()) >= 0) {
            return null;
        }
        return Path.of("/dev/shm", s.substring(prefix.length()));
    }
}
