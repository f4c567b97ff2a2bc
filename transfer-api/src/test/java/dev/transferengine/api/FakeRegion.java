package dev.transferengine.api;

import java.lang.foreign.MemorySegment;
import java.util.List;

/** A stand-in {@link MemoryRegion} for request tests: requests only hold the reference. */
record FakeRegion(MemorySegment segment, int group, Access access) implements MemoryRegion {
    static FakeRegion ofBytes(int length) {
        return new FakeRegion(MemorySegment.ofArray(new byte[length]), 0, Access.REMOTE_WRITE);
    }

    @Override
    public RemoteRegion descriptor() {
        return new RemoteRegion(0x1000, segment.byteSize(),
                List.of(new RemoteRegion.NicKey(DomainAddress.of(new byte[] {1}), 1, 0x1000)));
    }

    @Override
    public boolean isOpen() {
        return true;
    }

    @Override
    public void close() {
    }
}
