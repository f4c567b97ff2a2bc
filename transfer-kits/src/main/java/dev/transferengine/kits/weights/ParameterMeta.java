package dev.transferengine.kits.weights;

import dev.transferengine.api.InvalidRequestException;

import java.util.Arrays;

/**
 * What the planner knows of one parameter: its name, shape and dtype, and how it is placed over the training
 * (source) ranks and over the inference (destination) ranks. Both sides store a shard row-major.
 *
 * <p>The planner sees every parameter as a matrix: a 1-D parameter of {@code n} elements is {@code n x 1}, and
 * a parameter of more dimensions is {@code shape[0] x (product of the rest)}, which is exact for row sharding;
 * column sharding is accepted for 2-D parameters only.
 */
public record ParameterMeta(String name, long[] shape, DType dtype, Placement source, Placement destination) {
    public ParameterMeta {
        if (name == null || name.isEmpty()) {
            throw new InvalidRequestException("a parameter needs a name");
        }
        if (shape == null || shape.length == 0) {
            throw new InvalidRequestException(name + ": a parameter needs a shape of at least one dimension");
        }
        if (dtype == null || source == null || destination == null) {
            throw new InvalidRequestException(name + ": dtype and both placements are required");
        }
        long elements = 1;
        for (long d : shape) {
            if (d < 1) {
                throw new InvalidRequestException(name + ": every dimension must be >= 1, got " + Arrays.toString(shape));
            }
            elements = Math.multiplyExact(elements, d);
        }
        Math.multiplyExact(elements, (long) dtype.bytes());
        shape = shape.clone();
        for (Placement p : new Placement[] {source, destination}) {
            if (p instanceof Placement.Shard s && s.dim() == 1 && shape.length != 2) {
                throw new InvalidRequestException(name + ": column sharding needs a 2-D parameter, shape is "
                        + Arrays.toString(shape));
            }
        }
    }

    /** A parameter with the given placements. */
    public static ParameterMeta of(String name, DType dtype, Placement source, Placement destination, long... shape) {
        return new ParameterMeta(name, shape, dtype, source, destination);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Rows of the matrix view. */
    public long rows() {
        return shape[0];
    }

    /** Columns of the matrix view (the product of every dimension but the first). */
    public long columns() {
        long c = 1;
        for (int i = 1; i < shape.length; i++) {
            c *= shape[i];
        }
        return c;
    }

    /** Size of the whole tensor in bytes. */
    public long bytes() {
        return rows() * columns() * dtype.bytes();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParameterMeta p && p.name.equals(name) && Arrays.equals(p.shape, shape)
                && p.dtype == dtype && p.source.equals(source) && p.destination.equals(destination);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + " " + dtype + " " + source + " -> " + destination;
    }
}
