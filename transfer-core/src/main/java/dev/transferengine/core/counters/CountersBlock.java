package dev.transferengine.core.counters;

import dev.transferengine.api.Counter;
import dev.transferengine.api.EngineCounters;
import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.InvalidRequestException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * An engine's counters in one block of memory laid out by {@link CountersLayout}, read through
 * {@link EngineCounters} from any thread (acquire loads, no allocation) and written through one
 * {@link GroupCounters} per group by that group's worker.
 */
public final class CountersBlock implements EngineCounters {
    static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final CountersLayout layout;
    private final MemorySegment block;
    private final GroupCounters[] writers;

    CountersBlock(CountersLayout layout, MemorySegment block) {
        this.layout = layout;
        this.block = block;
        this.writers = new GroupCounters[layout.groups()];
        for (int g = 0; g < writers.length; g++) {
            writers[g] = new GroupCounters(this, g);
        }
    }

    /** A block private to this process (zeroed native memory, freed with the block by the garbage collector). */
    public static CountersBlock inMemory(CountersLayout layout, String name, String provider) {
        MemorySegment memory = Arena.ofAuto().allocate(layout.totalBytes(), 64);
        layout.writeHeader(memory, name, provider, ProcessHandle.current().pid(), System.currentTimeMillis());
        return new CountersBlock(layout, memory);
    }

    /** A read-only view of a block written elsewhere (a mapped counters file). */
    static CountersBlock reading(MemorySegment block) {
        return new CountersBlock(CountersLayout.readHeader(block), block);
    }

    /** The writer for {@code group}: to be used by the thread that drives that group only. */
    public GroupCounters group(int group) {
        return writers[group];
    }

    CountersLayout layout() {
        return layout;
    }

    /** The engine's name as written in the header. */
    public String engineName() {
        return CountersLayout.name(block);
    }

    /** The provider's name as written in the header. */
    public String providerName() {
        return CountersLayout.provider(block);
    }

    /** The pid of the process that wrote the block. */
    public long pid() {
        return CountersLayout.pid(block);
    }

    /** When the engine started (epoch milliseconds). */
    public long startMillis() {
        return CountersLayout.startMillis(block);
    }

    long load(long offset) {
        return (long) LONG.getAcquire(block, offset);
    }

    /** Single writer per offset: a plain read, then a release store readers pair with. */
    void add(long offset, long delta) {
        LONG.setRelease(block, offset, (long) LONG.get(block, offset) + delta);
    }

    @Override
    public int groups() {
        return layout.groups();
    }

    @Override
    public int nics(int group) {
        checkGroup(group);
        return layout.nics(group);
    }

    @Override
    public long get(int group, Counter counter) {
        checkGroup(group);
        if (counter == null) {
            throw new InvalidRequestException("counter must not be null");
        }
        if (!counter.perNic()) {
            return load(layout.groupOffset(group, counter));
        }
        long sum = 0;
        for (int n = 0; n < layout.nics(group); n++) {
            sum += load(layout.nicOffset(group, n, counter));
        }
        return sum;
    }

    @Override
    public long get(int group, int nic, Counter counter) {
        checkGroup(group);
        if (nic < 0 || nic >= layout.nics(group)) {
            throw new InvalidRequestException("NIC " + nic + " out of range: group " + group + " has "
                    + layout.nics(group));
        }
        if (counter == null || !counter.perNic()) {
            throw new InvalidRequestException(counter + " is not a per-NIC counter; read it with get(group, counter)");
        }
        return load(layout.nicOffset(group, nic, counter));
    }

    @Override
    public long errors(int group, ErrorCategory category) {
        checkGroup(group);
        if (category == null) {
            throw new InvalidRequestException("category must not be null");
        }
        return load(layout.errorOffset(group, category));
    }

    private void checkGroup(int group) {
        if (group < 0 || group >= layout.groups()) {
            throw new InvalidRequestException("group " + group + " out of range: the engine has " + layout.groups());
        }
    }

    @Override
    public String toString() {
        return "CountersBlock[" + engineName() + ", " + providerName() + ", " + layout + "]";
    }
}
