package dev.transferengine.api;

/**
 * Where registered memory lives, which decides the worker (group) that owns it.
 *
 * @param kind  host or CUDA device memory
 * @param index the group for host memory, the CUDA ordinal for device memory
 */
public record Device(Kind kind, int index) {
    /** Memory kinds. */
    public enum Kind { HOST, CUDA }

    public Device {
        if (kind == null || index < 0) {
            throw new InvalidRequestException("device needs a kind and an index >= 0");
        }
    }

    /** Host memory owned by group 0 (the main worker). */
    public static Device host() {
        return new Device(Kind.HOST, 0);
    }

    /** Host memory owned by the given group's worker. */
    public static Device host(int group) {
        return new Device(Kind.HOST, group);
    }

    /** Memory of CUDA device {@code ordinal}; owned by the group configured for that GPU. */
    public static Device cuda(int ordinal) {
        return new Device(Kind.CUDA, ordinal);
    }
}
