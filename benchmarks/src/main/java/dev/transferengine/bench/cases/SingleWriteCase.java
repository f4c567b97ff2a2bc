package dev.transferengine.bench.cases;

import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.TransferRequest;
import dev.transferengine.bench.cli.ByteSize;

/** A single write of {@code size} bytes, sharded over all NICs of the sender's group. */
public record SingleWriteCase(long size) implements WriteCase {

    @Override
    public String sweep() {
        return "single";
    }

    @Override
    public String label() {
        return ByteSize.format(size);
    }

    @Override
    public long bytesPerOp() {
        return size;
    }

    @Override
    public long sourceSpan() {
        return size;
    }

    @Override
    public TransferRequest request(BenchBuffers buffers, int slot, int imm) {
        return SingleWrite.withImm(buffers.source(), buffers.srcOffset(slot), size, buffers.destination(),
                buffers.dstOffset(slot, size), imm);
    }

    @Override
    public String verify(BenchBuffers buffers, int slot) {
        return buffers.compare(buffers.srcOffset(slot), buffers.dstOffset(slot, size), size);
    }
}
