package dev.transferengine.kits.moe;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Deterministic tokens, routings and a toy expert for demos and tests: every rank can compute what every other rank
 * sends, so each checks the tokens its experts received and the outputs it got back byte for byte. Token counts
 * vary by rank and round (rank 1 sends none in round 1), routings are skewed towards low expert ids so that some
 * sources overflow their private slots. Stateless.
 */
public final class SyntheticTraffic {
    private SyntheticTraffic() {
    }

    /** Tokens rank {@code rank} dispatches in {@code round}: varies, and rank 1 sends none in round 1. */
    public static int tokenCount(MoeConfig c, int rank, int round) {
        if (rank == 1 && round == 1) {
            return 0;
        }
        return c.maxTokens() - (rank + round) % 3;
    }

    /** {@code topK} distinct experts per token, skewed towards low expert ids so some peers overflow. */
    public static int[] routing(MoeConfig c, int rank, int round) {
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

    /** Byte {@code b} of token {@code token} of rank {@code rank} in {@code round}. */
    public static byte tokenByte(int rank, int round, int token, long b) {
        return (byte) (tokenWord(rank, round, token, b >>> 3) >>> ((b & 7) * 8));
    }

    private static long tokenWord(int rank, int round, int token, long word) {
        long z = (rank * 0x9E3779B97F4A7C15L) ^ (round * 0xBF58476D1CE4E5B9L) ^ (token * 0x94D049BB133111EBL)
                ^ (word * 0xD6E8FEB86659FD93L);
        z = (z ^ (z >>> 29)) * 0xBF58476D1CE4E5B9L;
        return z ^ (z >>> 32);
    }

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(
            java.nio.ByteOrder.LITTLE_ENDIAN);

    /** Writes rank {@code rank}'s tokens of {@code round}, {@code tokenBytes} each, row after row into {@code out}. */
    public static void fillTokens(MoeConfig c, int rank, int round, MemorySegment out) {
        long h = c.tokenBytes();
        for (int t = 0; t < tokenCount(c, rank, round); t++) {
            long base = t * h;
            long b = 0;
            for (; b + 8 <= h; b += 8) {
                out.set(LE_LONG, base + b, tokenWord(rank, round, t, b >>> 3));
            }
            for (; b < h; b++) {
                out.set(ValueLayout.JAVA_BYTE, base + b, tokenByte(rank, round, t, b));
            }
        }
    }

    /** The toy expert: every byte XOR a value of the expert id. */
    public static byte expertOutput(int expert, byte in) {
        return (byte) (in ^ (expert * 37 + 11));
    }

    public static void runExperts(ExpertBatch batch) {
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
    public static String checkBatch(MoeConfig c, int rank, int round, ExpertBatch batch) {
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
    public static String checkOutputs(MoeConfig c, int rank, int round, MoeRank moe) {
        int[] ids = routing(c, rank, round);
        for (int t = 0; t < tokenCount(c, rank, round); t++) {
            for (int j = 0; j < c.topK(); j++) {
                MemorySegment out = moe.output(t, j);
                for (long b = 0; b < c.tokenBytes(); b++) {
                    byte expected = expertOutput(ids[t * c.topK() + j], tokenByte(rank, round, t, b));
                    if (out.get(ValueLayout.JAVA_BYTE, b) != expected) {
                        return "token " + t + " choice " + j + " (expert " + ids[t * c.topK() + j] + ") byte " + b;
                    }
                }
            }
        }
        return null;
    }

    /** Dispatch imms rank {@code rank} receives in {@code round}: one private write per peer, NICs per overflowing peer. */
    public static long dispatchImms(MoeConfig c, int rank, int round) {
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
    public static String round(MoeConfig c, MoeRank moe, int rank, int round, MemorySegment tokens,
                               java.time.Duration timeout) {
        return round(c, moe, rank, round, tokens, timeout, true);
    }

    /**
     * One round on one rank. With {@code verify} false the experts are the identity and nothing is checked (timed
     * rounds of a benchmark); the routing and token counts are the same.
     */
    public static String round(MoeConfig c, MoeRank moe, int rank, int round, MemorySegment tokens,
                               java.time.Duration timeout, boolean verify) {
        fillTokens(c, rank, round, tokens);
        ExpertBatch batch = moe.dispatch(tokens, tokenCount(c, rank, round), routing(c, rank, round), timeout);
        if (!verify) {
            moe.combine(timeout);
            return null;
        }
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
