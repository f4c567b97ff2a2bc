package dev.transferengine.kits.weights;

/** Element types of parameters, by their size in bytes. The kit moves bytes and never interprets them. */
public enum DType {
    FP32(4), BF16(2), FP16(2), FP8(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }
}
