package dev.transferengine.conformance;

import dev.transferengine.api.Access;
import dev.transferengine.api.ClosedException;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.ImmAccounting;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.ImmWrite;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.Routing;
import dev.transferengine.api.ScatterTarget;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferException;
import dev.transferengine.api.TransferRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.provider.Arguments;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * What every section of the conformance suite shares: the provider hook, the NIC counts, fixtures (engines
 * and test memory, closed after each test), unique imm values, and assertions for rejected requests.
 * Providers do not extend this class but {@link TransferConformanceSuite}, which holds every section as a
 * {@code @Nested} group ({@link ConformanceSection}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ConformanceBase {
    static final int MIB = 1 << 20;
    static final int KIB = 1 << 10;
    /** Imm values unique across the whole test JVM, so no test can see another's imms. */
    private static final AtomicInteger NEXT_IMM = new AtomicInteger(0x7E00_0000);

    final List<ConformanceFixture> fixtures = new ArrayList<>();
    String testName = "test";

    /**
     * A builder for one engine with one group of {@code nicsPerGroup} NICs: the provider, its options and
     * the group. Called once per engine; the suite adds the name and builds it.
     */
    protected abstract TransferEngine.Builder newEngineBuilder(int nicsPerGroup);

    /** The provider's test class: it names the seeds (a section answers with its suite's). */
    protected Class<?> suiteClass() {
        return getClass();
    }

    /** The NICs-per-group values to run every test with. */
    protected int[] nicCounts() {
        return new int[] {1, 2, 4};
    }

    // ---------------------------------------------------------------------------------------------
    // Parameter sources and fixtures
    // ---------------------------------------------------------------------------------------------

    protected final IntStream nics() {
        return IntStream.of(nicCounts());
    }

    /** Every ordered pair of different NIC counts: the sender and receiver disagree. */
    protected final Stream<Arguments> differentNicCounts() {
        int[] counts = nicCounts();
        List<Arguments> pairs = new ArrayList<>();
        for (int x : counts) {
            for (int y : counts) {
                if (x != y) {
                    pairs.add(Arguments.of(x, y));
                }
            }
        }
        return pairs.stream();
    }

    @BeforeEach
    final void rememberTestName(TestInfo info) {
        testName = info.getTestMethod().map(m -> m.getName()).orElse("test");
    }

    @AfterEach
    final void closeFixtures() {
        RuntimeException first = null;
        for (ConformanceFixture f : fixtures) {
            try {
                f.close();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        fixtures.clear();
        if (first != null) {
            throw first;
        }
    }

    ConformanceFixture fixture(int nics) {
        return fixture(nics, nics);
    }

    ConformanceFixture fixture(int nicsA, int nicsB) {
        long seed = (suiteClass().getSimpleName() + "." + testName + "/" + nicsA + "/" + nicsB).hashCode();
        String name = "conf-" + testName + "-" + nicsA + "x" + nicsB + "-" + fixtures.size();
        ConformanceFixture f = new ConformanceFixture(this::newEngineBuilder, name, nicsA, nicsB, seed);
        fixtures.add(f);
        return f;
    }

    static int nextImm() {
        return NEXT_IMM.incrementAndGet();
    }

    static long imms(TransferRequest request, int senderNics) {
        return ImmAccounting.immsProduced(request, senderNics);
    }

    // ---------------------------------------------------------------------------------------------
    // Assertions shared by the sections
    // ---------------------------------------------------------------------------------------------

    /** Submits {@code request} in all three forms and asserts each is rejected synchronously. */
    static void assertRejected(TransferEngine engine, TransferRequest request, ErrorCategory category,
                               String what) {
        RecordingCallback callback = new RecordingCallback();
        TransferCounter counter = new TransferCounter();
        assertCategory(category, () -> engine.submit(request, callback), what + " (callback form)");
        assertCategory(category, () -> engine.submit(request), what + " (future form)");
        assertCategory(category, () -> engine.submit(request, counter), what + " (counter form)");
        callback.assertNotCalled(what);
        assertEquals(0, counter.completed(), what + ": a rejected request must not complete its counter");
    }

    static TransferException assertCategory(ErrorCategory category, Executable call, String what) {
        Class<? extends TransferException> type = switch (category) {
            case CLOSED -> ClosedException.class;
            case INVALID_ARGUMENT -> InvalidRequestException.class;
            default -> TransferException.class;
        };
        TransferException e = assertThrows(type, call, what);
        assertEquals(category, e.category(), () -> what + ": " + e);
        return e;
    }

    static void assertInvalid(Executable call, String what) {
        assertCategory(ErrorCategory.INVALID_ARGUMENT, call, what);
    }

    /** Proves the worker is alive and gives a wrongly posted write time to land before memory is checked. */
    static void flush(ConformanceFixture f) {
        GuardedBuffer scratch = f.buffer(4 * KIB);
        RemoteRegion r = f.register(f.b, scratch, Access.REMOTE_WRITE).descriptor();
        int imm = nextImm();
        ImmCounter c = f.b.immCounter(imm);
        Waits.get(f.a.submit(new ImmWrite(r, imm, Routing.allNics())), "flush");
        c.await(1, Waits.DEADLINE);
    }

    /** {@code count} small scatter targets in {@code dst}, 2000 bytes apart. */
    static List<ScatterTarget> targets(RemoteRegion dst, int count) {
        List<ScatterTarget> t = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            t.add(new ScatterTarget(dst, 1000 + i, 0, 2000L * i));
        }
        return t;
    }
}
