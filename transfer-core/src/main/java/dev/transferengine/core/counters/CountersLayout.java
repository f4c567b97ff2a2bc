package dev.transferengine.core.counters;

import dev.transferengine.api.Counter;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.MalformedEncodingException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Where each counter of an engine lives in one block of memory: on the heap, or in a memory-mapped file that
 * another process reads ({@link CountersFile}).
 *
 * <pre>
 * header (256 bytes):
 *   0  long  magic "TECNTRS1"         8  int version      12 int groups
 *   16 long  pid of the engine       24 long start time (epoch ms)
 *   32 int   counters per scope      36 int error categories
 *   40 int   name length, 44..107 name (UTF-8, at most 64 bytes)
 *   108 int  provider length, 112..175 provider (UTF-8, at most 64 bytes)
 *   176..255 reserved
 * group table: groups x (int nics, int reserved)
 * then per group, starting on a 64-byte boundary so two workers never share a cache line:
 *   group scope   |Counter| longs, then |ErrorCategory| longs (errors by category)
 *   NIC scope     nics x |Counter| longs
 * </pre>
 * Values are native-endian longs (a file is read on the machine that wrote it). The order of {@link Counter}
 * and {@link ErrorCategory} constants is part of the format: a reader refuses a file whose counts differ.
 */
public final class CountersLayout {
    static final long MAGIC = 0x5445_434E_5452_5331L; // "TECNTRS1"
    static final int VERSION = 1;
    static final int HEADER_BYTES = 256;
    static final int NAME_BYTES = 64;
    private static final long LINE = 64;
    static final int COUNTERS = Counter.values().length;
    static final int CATEGORIES = ErrorCategory.values().length;

    private final int[] nics;
    private final long[] groupBase;
    private final long totalBytes;

    /** @param nicsPerGroup the NIC count of each group (each >= 1) */
    public CountersLayout(int[] nicsPerGroup) {
        if (nicsPerGroup.length == 0) {
            throw new IllegalArgumentException("an engine has at least one group");
        }
        this.nics = nicsPerGroup.clone();
        this.groupBase = new long[nics.length];
        long offset = align(HEADER_BYTES + 8L * nics.length);
        for (int g = 0; g < nics.length; g++) {
            if (nics[g] < 1) {
                throw new IllegalArgumentException("group " + g + " has " + nics[g] + " NICs");
            }
            groupBase[g] = offset;
            offset = align(offset + 8L * (COUNTERS + CATEGORIES + (long) nics[g] * COUNTERS));
        }
        this.totalBytes = offset;
    }

    private static long align(long offset) {
        return (offset + LINE - 1) & -LINE;
    }

    /** Bytes the whole block takes. */
    public long totalBytes() {
        return totalBytes;
    }

    public int groups() {
        return nics.length;
    }

    public int nics(int group) {
        return nics[group];
    }

    /** Offset of a group-scope counter (or of a per-NIC counter's group slot, unused). */
    long groupOffset(int group, Counter counter) {
        return groupBase[group] + 8L * counter.ordinal();
    }

    long errorOffset(int group, ErrorCategory category) {
        return groupBase[group] + 8L * (COUNTERS + category.ordinal());
    }

    long nicOffset(int group, int nic, Counter counter) {
        return groupBase[group] + 8L * (COUNTERS + CATEGORIES + (long) nic * COUNTERS + counter.ordinal());
    }

    /** Writes the header and group table into a zeroed block. */
    void writeHeader(MemorySegment block, String name, String provider, long pid, long startMillis) {
        block.set(ValueLayout.JAVA_INT, 8, VERSION);
        block.set(ValueLayout.JAVA_INT, 12, nics.length);
        block.set(ValueLayout.JAVA_LONG, 16, pid);
        block.set(ValueLayout.JAVA_LONG, 24, startMillis);
        block.set(ValueLayout.JAVA_INT, 32, COUNTERS);
        block.set(ValueLayout.JAVA_INT, 36, CATEGORIES);
        putString(block, 40, name);
        putString(block, 108, provider);
        for (int g = 0; g < nics.length; g++) {
            block.set(ValueLayout.JAVA_INT, HEADER_BYTES + 8L * g, nics[g]);
        }
        // The magic goes last: a reader that sees it sees a complete header.
        CountersBlock.LONG.setRelease(block, 0L, MAGIC);
    }

    /** Reads and checks the header of a block written by {@link #writeHeader}. */
    static CountersLayout readHeader(MemorySegment block) {
        if (block.byteSize() < HEADER_BYTES || block.get(ValueLayout.JAVA_LONG, 0) != MAGIC) {
            throw new MalformedEncodingException("not a TransferEngine counters file (bad magic or too short)");
        }
        int version = block.get(ValueLayout.JAVA_INT, 8);
        int counters = block.get(ValueLayout.JAVA_INT, 32);
        int categories = block.get(ValueLayout.JAVA_INT, 36);
        if (version != VERSION || counters != COUNTERS || categories != CATEGORIES) {
            throw new MalformedEncodingException("counters file of another version (version " + version + ", "
                    + counters + " counters, " + categories + " categories; this reader: " + VERSION + ", "
                    + COUNTERS + ", " + CATEGORIES + ")");
        }
        int groups = block.get(ValueLayout.JAVA_INT, 12);
        if (groups < 1 || groups > 4096 || HEADER_BYTES + 8L * groups > block.byteSize()) {
            throw new MalformedEncodingException("counters file names " + groups + " groups");
        }
        int[] nics = new int[groups];
        for (int g = 0; g < groups; g++) {
            nics[g] = block.get(ValueLayout.JAVA_INT, HEADER_BYTES + 8L * g);
            if (nics[g] < 1 || nics[g] > 4096) {
                throw new MalformedEncodingException("counters file: group " + g + " has " + nics[g] + " NICs");
            }
        }
        CountersLayout layout = new CountersLayout(nics);
        if (layout.totalBytes > block.byteSize()) {
            throw new MalformedEncodingException("counters file is truncated: " + block.byteSize() + " bytes, layout needs "
                    + layout.totalBytes);
        }
        return layout;
    }

    static String name(MemorySegment block) {
        return getString(block, 40);
    }

    static String provider(MemorySegment block) {
        return getString(block, 108);
    }

    static long pid(MemorySegment block) {
        return block.get(ValueLayout.JAVA_LONG, 16);
    }

    static long startMillis(MemorySegment block) {
        return block.get(ValueLayout.JAVA_LONG, 24);
    }

    private static void putString(MemorySegment block, long offset, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(bytes.length, NAME_BYTES);
        block.set(ValueLayout.JAVA_INT, offset, n);
        MemorySegment.copy(bytes, 0, block, ValueLayout.JAVA_BYTE, offset + 4, n);
    }

    private static String getString(MemorySegment block, long offset) {
        int n = Math.clamp(block.get(ValueLayout.JAVA_INT, offset), 0, NAME_BYTES);
        byte[] bytes = new byte[n];
        MemorySegment.copy(block, ValueLayout.JAVA_BYTE, offset + 4, bytes, 0, n);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "CountersLayout" + Arrays.toString(nics);
    }
}
