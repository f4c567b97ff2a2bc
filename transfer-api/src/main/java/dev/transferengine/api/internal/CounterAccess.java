package dev.transferengine.api.internal;

import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferException;

/**
 * What only the engine may do to the API's counters: create an {@link ImmCounter}, count imms into it, and complete
 * a {@link TransferCounter}. Applications read and await counters but cannot forge their counts: those members are
 * package-private in {@code dev.transferengine.api}, and this package is exported to {@code dev.transferengine.core}
 * alone (on the class path it is merely not part of the API: do not call it).
 *
 * <p>The operations reach the package-private members through a {@link Bridge} that the API package installs when
 * {@link TransferCounter} is initialised (the JDK's shared-secrets pattern). Allocation-free; thread-safe as the
 * counters are.
 */
public final class CounterAccess {
    /** The API package's side; implemented there, once. */
    public interface Bridge {
        ImmCounter newImmCounter(int imm);

        void addImms(ImmCounter counter, long count);

        void succeed(TransferCounter counter);

        void fail(TransferCounter counter, TransferException error);
    }

    private static volatile Bridge bridge;

    static {
        try {
            // TransferCounter's initialiser installs the bridge.
            Class.forName(TransferCounter.class.getName(), true, CounterAccess.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private CounterAccess() {
    }

    /**
     * Installs the API package's bridge; called once by {@link TransferCounter}'s initialiser.
     *
     * @throws IllegalStateException when a bridge is installed already or {@code b} is not the API package's
     */
    public static void install(Bridge b) {
        if (bridge != null || b == null || !b.getClass().getPackageName().equals("dev.transferengine.api")) {
            throw new IllegalStateException("the counters' bridge is installed by dev.transferengine.api, once");
        }
        bridge = b;
    }

    /** A new counter of {@code imm}, for the engine's imm table. */
    public static ImmCounter newImmCounter(int imm) {
        return bridge.newImmCounter(imm);
    }

    /** Counts {@code count} arrived imms. */
    public static void addImms(ImmCounter counter, long count) {
        bridge.addImms(counter, count);
    }

    /** Records one successful completion. */
    public static void succeed(TransferCounter counter) {
        bridge.succeed(counter);
    }

    /** Records one failed completion. */
    public static void fail(TransferCounter counter, TransferException error) {
        bridge.fail(counter, error);
    }
}
