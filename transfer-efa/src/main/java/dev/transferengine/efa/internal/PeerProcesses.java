package dev.transferengine.efa.internal;

import java.nio.charset.StandardCharsets;

/**
 * Which shm peers are processes that are gone (issue 9, peer death on shm).
 *
 * <p>shm (libfabric 1.17) guards each endpoint's shared region with a spin lock that writers to it take in
 * {@code fi_writemsg}. A peer killed while holding its own lock (it holds it whenever it progresses its commands)
 * leaves it locked for good, and the next post to it spins in {@code pthread_spin_lock} forever: the worker is
 * lost, and since posts are critical downcalls, the whole JVM stops at its next safepoint. The shm address names
 * the peer's process ({@code fi_shm://PID:UID:IDX}), so before a post to a peer in another process the domain asks
 * the kernel whether that pid still exists ({@code kill(pid, 0)}) and fails the post with PEER_UNREACHABLE when it
 * does not. To keep the cost at one system call per peer per poll (not per post), the answer is reused until the
 * domain's next {@code poll}: a peer that dies between that check and a post in the same worker iteration can still
 * wedge the worker (a window of one iteration, microseconds). A zombie (killed, not yet reaped by its parent)
 * still counts as alive; a pid reused by an unrelated process makes a dead peer look alive. Single-threaded.
 */
final class PeerProcesses {
    private static final String SHM_PREFIX = "fi_shm://";
    /** This process's pid (shm names and regions of this process are not peers to check). */
    static final int OWN_PID = (int) ProcessHandle.current().pid();

    private int[] pid = new int[8];
    private long[] checkedAtPoll = new long[8];
    private boolean[] gone = new boolean[8];
    private long polls = 1;

    /** The pid named by an shm address, or 0 (not shm, or this process: nothing to check). */
    static int pidOf(byte[] address) {
        String s = new String(address, StandardCharsets.US_ASCII);
        int p = s.startsWith(SHM_PREFIX) ? leadingPid(s, SHM_PREFIX.length()) : 0;
        return p == OWN_PID ? 0 : p;
    }

    /**
     * The pid that shm names start with ({@code PID:UID:IDX}), read from {@code s} at {@code from}; 0 when there is
     * none (shm addresses after {@code fi_shm://}, key-table files after their prefix).
     */
    static int leadingPid(String s, int from) {
        int end = s.indexOf(':', from);
        try {
            int p = Integer.parseInt(s.substring(from, end < 0 ? s.length() : end));
            return Math.max(p, 0);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Records the peer at {@code index} (a {@link PeerTable} index). */
    void add(int index, byte[] address) {
        if (index >= pid.length) {
            int n = Math.max(index + 1, pid.length * 2);
            pid = java.util.Arrays.copyOf(pid, n);
            checkedAtPoll = java.util.Arrays.copyOf(checkedAtPoll, n);
            gone = java.util.Arrays.copyOf(gone, n);
        }
        pid[index] = pidOf(address);
    }

    /** A poll began: answers from before it are stale. */
    void polled() {
        polls++;
    }

    /** Whether the peer's process is known to be gone (checked at most once per poll; once gone, always gone). */
    boolean gone(int index) {
        if (index >= pid.length || pid[index] == 0) {
            return false;
        }
        if (gone[index] || checkedAtPoll[index] == polls) {
            return gone[index];
        }
        checkedAtPoll[index] = polls;
        gone[index] = !Libc.processExists(pid[index]);
        return gone[index];
    }

    int pid(int index) {
        return index < pid.length ? pid[index] : 0;
    }
}
