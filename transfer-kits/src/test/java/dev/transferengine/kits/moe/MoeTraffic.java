package dev.transferengine.kits.moe;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Deterministic tokens, routings and a toy expert for the tests (and the child JVM): every rank can compute what
 * every other rank sends, so each checks its received tokens and its returned outputs byte for byte.
 */
final class MoeTraffic {
    private MoeTraffic() {
    }

    /** Tokens rank {@code rank} dispatches in {@code round}: varies, and rank 1 sends none in round 1. */
    static int tokenCount(MoeConfig c, int rank, int round) {
        if (rank == 1 && round == 1) {
            return 0;
        }
        return c.maxTokens() - (rank + round) % 3;
    }

    /** {@code topK} distinct experts per token, skewed towards low expert ids so some peers overflow. */
    static int[] routing(MoeConfig c, int rank, int round) {
        int n = tokenCount(c, rank, round);
        SplittableRandom random = new SplittableRandom(rank * 1_000_003L + round);
        int[] ids = new int[n * c.topK()];
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < c.topK(); j++) {
                int e;
                boolean again;
                do {
                    e = random.nextInt(4) == 0 ? random.nextInt(c.experts()) : random.nextInt(Math.max(1, c.experts() / 3));
                    again = false;
                    for (int i = 0; i < j; i++) {
                        again |= ids[t * c.topK() + i] == e;
                    }
                } while (again);
                ids[t * c.topK() + j] = e;
            }
        }
        return ids;
    }

    static byte tokenByte(int rank, int round, int token, long b) {
        long z = (rank * 0x9E3779B97F4A7C15L) ^ (round * 0xBF58476D1CE4E5B9L) ^ (token * 0x94D049BB133111EBL) ^ (b * 31);
        z = (z ^ (z >>> 29)) * 0xBF58476D1CE4E5B9L;
        return (byte) (z ^ (z >>> 32));
    }

    static void fillTokens(MoeConfig c, int rank, int round, MemorySegment out) {
        for (int t = 0; t < tokenCount(c, rank, round); t++) {
            for (long b = 0; b < c.tokenBytes(); b++) {
                out.set(ValueLayout.JAVA_BYTE, t * (long) c.tokenBytes() + b, tokenByte(rank, round, t, b));
            }
        }
    }

    /** The toy expert: every byte XOR a value of the expert id. */
    static byte expertOutput(int expert, byte in) {
        return (byte) (in ^ (expert * 37 + 11));
    }

    static void runExperts(ExpertBatch batch) {
        for (int le = 0; le < batch.localExperts(); le++) {
            for (int i = 0; i < batch.tokenCount(le); i++) {
                MemorySegment t = batch.token(le, i);
                for (long b = 0; b < t.byteSize(); b++) {
                    t.set(ValueLayout.JAVA_BYTE, b, expertOutput(batch.expertId(le), t.get(ValueLayout.JAVA_BYTE, b)));
                }
            }
        }
    }

    /**
     * Checks what rank {@code rank} received: per local expert, the tokens of every source that chose it, in source
     * then token order. Returns null when right, else a description of the first difference.
     */
    static String checkBatch(MoeConfig c, int rank, int round, ExpertBatch batch) {
        for (int le = 0; le < batch.localExperts(); le++) {
            int expert = batch.expertId(le);
            int i = 0;
            for (int s = 0; s < c.ranks(); s++) {
                int[] ids = routing(c, s, round);
                for (int t = 0; t < tokenCount(c, s, round); t++) {
                    for (int j = 0; j < c.topK(); j++) {
                        if (ids[t * c.topK() + j] != expert) {
                            continue;
                        }
                        if (i >= batch.tokenCount(le)) {
                            return "expert " + expert + " got only " + batch.tokenCount(le) + " tokens";
                        }
                        if (batch.source(le, i) != s) {
                            return "expert " + expert + " token " + i + " from rank " + batch.source(le, i) + ", not " + s;
                        }
                        MemorySegment got = batch.token(le, i);
                        for (long b = 0; b < c.tokenBytes(); b++) {
                            if (got.get(ValueLayout.JAVA_BYTE, b) != tokenByte(s, round, t, b)) {
                                return "expert " + expert + " token " + i + " (rank " + s + " token " + t + ") byte " + b;
                            }
                        }
                        i++;
                    }
                }
            }
            if (i != batch.tokenCount(le)) {
                return "expert " + expert + " got " + batch.tokenCount(le) + " tokens, expected " + i;
            }
        }
        return null;
    }

    /** Checks every output of rank {@code rank}'s tokens after combine. Null when right. */
    static String checkOutputs(MoeConfig c, int rank, int round, MoeRank moe) {
        int[] ids = routing(c, rank, round);
        for (int t = 0; t < tokenCount(c, rank, round); t++) {
            for (int j = 0; j < c.topK(); j++) {
                MemorySegment out = moe.output(t, j);
                for (long b = 0; b < c.tokenBytes(); b++) {
                    if (out.get(ValueLayout.JAVA_BYTE, b) != expertOutput(ids[t * c.topK() + j], tokenByte(rank, round, t, b))) {
                        return "token " + t + " choice " + j + " (expert " + ids[t * c.topK() + j] + ") byte " + b;
                    }
                }
            }
        }
        return null;
    }

    /** Dispatch imms rank {@code rank} receives in {@code round}: one private write per peer, NICs per overflowing peer. */
    static long dispatchImms(MoeConfig c, int rank, int round) {
        long n = c.ranks() - 1;
        for (int s = 0; s < c.ranks(); s++) {
            if (s == rank) {
                continue;
            }
            int[] ids = routing(c, s, round);
            int tokens = 0;
            for (int id : ids) {
                tokens += c.rankOf(id) == rank ? 1 : 0;
            }
            if (tokens > c.privateTokens()) {
                n += c.senderNics();
            }
        }
        return n;
    }

    /** One whole round on one rank: dispatch, experts, checks, combine, checks. Null when every byte was right. */
    static String round(MoeConfig c, MoeRank moe, int rank, int round, MemorySegment tokens, java.time.Duration timeout) {
        fillTokens(c, rank, round, tokens);
        ExpertBatch batch = moe.dispatch(tokens, tokenCount(c, rank, round), routing(c, rank, round), timeout);
        String bad = checkBatch(c, rank, round, batch);
        runExperts(batch);
        moe.combine(timeout);
        if (bad != null) {
            return "rank " + rank + " round " + round + " dispatch: " + bad;
        }
        bad = checkOutputs(c, rank, round, moe);
        return bad == null ? null : "rank " + rank + " round " + round + " combine: " + bad;
    }
}
