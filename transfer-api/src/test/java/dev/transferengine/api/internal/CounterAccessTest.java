package dev.transferengine.api.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.TransferCounter;
import dev.transferengine.api.TransferException;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Modifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Applications cannot forge counts (issue 11): the members that count are not public, only the engine's
 * {@link CounterAccess} reaches them, and nobody can install another bridge.
 */
class CounterAccessTest {

    @Test
    void theCountingMembersAreNotPublic() throws Exception {
        assertFalse(Modifier.isPublic(TransferCounter.class.getDeclaredMethod("onSuccess").getModifiers()));
        assertFalse(Modifier.isPublic(TransferCounter.class.getDeclaredMethod("onFailure", TransferException.class)
                .getModifiers()));
        assertFalse(Modifier.isPublic(ImmCounter.class.getDeclaredMethod("add", long.class).getModifiers()));
        assertFalse(Modifier.isPublic(ImmCounter.class.getDeclaredConstructor(int.class).getModifiers()));
    }

    @Test
    void theEngineCountsThroughTheBridge() {
        TransferCounter transfers = new TransferCounter();
        CounterAccess.succeed(transfers);
        TransferException error = new TransferException(ErrorCategory.TIMEOUT, "late");
        CounterAccess.fail(transfers, error);
        assertEquals(2, transfers.completed());
        assertEquals(1, transfers.failed());
        assertSame(error, transfers.firstError());

        ImmCounter imms = CounterAccess.newImmCounter(0xBEEF);
        assertEquals(0xBEEF, imms.imm());
        CounterAccess.addImms(imms, 3);
        assertEquals(3, imms.arrived());
    }

    @Test
    void noOtherBridgeCanBeInstalled() {
        CounterAccess.Bridge forged = new CounterAccess.Bridge() {
            @Override
            public ImmCounter newImmCounter(int imm) {
                return null;
            }

            @Override
            public void addImms(ImmCounter counter, long count) {
            }

            @Override
            public void succeed(TransferCounter counter) {
            }

            @Override
            public void fail(TransferCounter counter, TransferException error) {
            }
        };
        assertThrows(IllegalStateException.class, () -> CounterAccess.install(forged));
        assertThrows(IllegalStateException.class, () -> CounterAccess.install(null));
        TransferCounter c = new TransferCounter();
        CounterAccess.succeed(c);
        assertEquals(1, c.completed(), "the real bridge is still the one in use");
    }
}
