package dev.transferengine.core.counters;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MalformedEncodingException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/**
 * An engine's counters in a memory-mapped file, so that another process can read a running engine's counters
 * ({@code te stat}), as Aeron's CnC file lets AeronStat. Opt-in: the engine writes one only when asked for
 * ({@code TransferEngine.Builder.countersFile}). The engine {@linkplain #create creates} the file (replacing
 * a stale one) and deletes it on close; a reader {@linkplain #open opens} it read-only. The mapping itself lives
 * as long as the {@link CountersBlock} is reachable (an automatic arena), so a view taken before close keeps
 * reading the last values after the file is gone, and no reader can touch unmapped memory.
 */
public final class CountersFile implements AutoCloseable {
    private final Path path;
    private final CountersBlock block;
    private final boolean owner;

    private CountersFile(Path path, CountersBlock block, boolean owner) {
        this.path = path;
        this.block = block;
        this.owner = owner;
    }

    /**
     * Creates (or replaces) {@code path} sized for {@code layout} and writes its header.
     *
     * @throws InvalidRequestException when the file cannot be created (the message says why)
     */
    public static CountersFile create(Path path, CountersLayout layout, String name, String provider) {
        Objects.requireNonNull(path, "path");
        Arena arena = Arena.ofAuto();
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.deleteIfExists(path);
            MemorySegment segment;
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                    StandardOpenOption.WRITE)) {
                segment = channel.map(FileChannel.MapMode.READ_WRITE, 0, layout.totalBytes(), arena);
            }
            layout.writeHeader(segment, name, provider, ProcessHandle.current().pid(), System.currentTimeMillis());
            return new CountersFile(path, new CountersBlock(layout, segment), true);
        } catch (IOException | RuntimeException e) {
            throw new InvalidRequestException("cannot create the counters file " + path + ": " + e);
        }
    }

    /**
     * Maps an existing counters file read-only.
     *
     * @throws InvalidRequestException     when it cannot be read
     * @throws MalformedEncodingException  when it is not a counters file of this version
     */
    public static CountersFile open(Path path) {
        Objects.requireNonNull(path, "path");
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment segment = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), Arena.ofAuto());
            return new CountersFile(path, CountersBlock.reading(segment), false);
        } catch (IOException e) {
            throw new InvalidRequestException("cannot read the counters file " + path + ": " + e);
        }
    }

    public Path path() {
        return path;
    }

    /** The counters (live: values change while the engine runs). */
    public CountersBlock counters() {
        return block;
    }

    /** The engine that created the file deletes it (its view keeps the last values); a reader's close does nothing. */
    @Override
    public void close() {
        if (owner) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete the counters file " + path, e);
            }
        }
    }
}
