package dev.transferengine.core;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine option {@code copyStreams}: checked at build, 4 by default, handed to the engine's device paths. */
class CopyStreamsOptionTest {
    @Test
    void badCountsAreRefusedAtBuild() {
        for (String bad : new String[] {"0", "17", "four", ""}) {
            InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> TransferEngine.builder()
                    .provider("loopback").providerOption("copyStreams", bad).build(), bad);
            assertTrue(e.getMessage().contains("copyStreams"), e.getMessage());
        }
    }

    @Test
    void theCountReachesTheEngine() {
        try (TransferEngine e = TransferEngine.builder().provider("loopback").build()) {
            assertEquals(4, ((DefaultTransferEngine) e).copyStreams());
        }
        try (TransferEngine e = TransferEngine.builder().provider("loopback").providerOption("copyStreams", " 16 ")
                .build()) {
            assertEquals(16, ((DefaultTransferEngine) e).copyStreams());
        }
    }
}
