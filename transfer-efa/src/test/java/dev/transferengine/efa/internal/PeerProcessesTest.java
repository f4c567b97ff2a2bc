package dev.transferengine.efa.internal;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link PeerProcesses}: which shm addresses name a process to check, and when a gone process is noticed. */
class PeerProcessesTest {
    private static byte[] shm(long pid) {
        return ("fi_shm://" + pid + ":0:3\0").getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void onlyShmAddressesOfOtherProcessesNameAPid() {
        assertEquals(4321, PeerProcesses.pidOf(shm(4321)));
        assertEquals(0, PeerProcesses.pidOf(shm(ProcessHandle.current().pid())), "this process: nothing to check");
        assertEquals(0, PeerProcesses.pidOf(new byte[] {2, 0, 0x1f, (byte) 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}),
                "a tcp sockaddr_in");
        assertEquals(0, PeerProcesses.pidOf("fi_shm://abc:0:1\0".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(0, PeerProcesses.pidOf("fi_shm://-5:0:1\0".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(0, PeerProcesses.pidOf("fi_shm://\0".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void aProcessThatExitedIsGoneFromTheNextPollOnAndStaysGone() throws Exception {
        Process p = new ProcessBuilder("sleep", "60").start();
        try {
            PeerProcesses processes = new PeerProcesses();
            processes.add(0, shm(p.pid()));
            processes.add(1, shm(ProcessHandle.current().pid()));
            processes.polled();
            assertFalse(processes.gone(0), "a running process");
            assertFalse(processes.gone(1), "this process is never checked");
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertFalse(processes.gone(0), "the answer is reused until the next poll");
            processes.polled();
            assertTrue(processes.gone(0), "checked again after a poll: gone");
            assertEquals(p.pid(), processes.pid(0));
            assertTrue(processes.gone(0), "once gone, always gone");
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void indicesBeyondTheFirstArrayGrowIt() {
        PeerProcesses processes = new PeerProcesses();
        processes.add(40, shm(ProcessHandle.current().pid() + 1_000_000_000L));
        assertFalse(processes.gone(3), "never added: nothing to check");
        processes.polled();
        assertTrue(processes.gone(40), "a pid that cannot exist");
    }
}
