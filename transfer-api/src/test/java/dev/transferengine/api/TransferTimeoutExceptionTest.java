package dev.transferengine.api;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** A timeout re-thrown with more context keeps its cause and its category. */
class TransferTimeoutExceptionTest {

    @Test
    void keepsTheCauseAndTheCategory() {
        TransferTimeoutException original = new TransferTimeoutException("timed out after PT1S waiting for 4 imms");
        TransferTimeoutException wrapped = new TransferTimeoutException("combine phase: " + original.getMessage(),
                original);

        assertSame(original, wrapped.getCause());
        assertEquals(ErrorCategory.TIMEOUT, wrapped.category());
        assertEquals("combine phase: timed out after PT1S waiting for 4 imms", wrapped.getMessage());
        assertNull(original.getCause());
    }

    @Test
    void aNullCauseIsAllowed() {
        TransferTimeoutException e = new TransferTimeoutException("deadline", null);
        assertNull(e.getCause());
        assertEquals(ErrorCategory.TIMEOUT, e.category());
    }
}
