package dev.transferengine.core.loopback;

import java.util.random.RandomGenerator;

/**
 * A fixed-capacity FIFO of ints (operation slot indices) whose {@link #take} can also pick a random
 * element, which is how the reorder switch scrambles the order operations are applied in.
 * Single-threaded; never allocates after construction.
 */
final class IntRing {
    private final int[] elements;
    private int head;
    private int size;

    IntRing(int capacity) {
        this.elements = new int[capacity];
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** The oldest element, without removing it. */
    int peek() {
        if (size == 0) {
            throw new IllegalStateException("ring is empty");
        }
        return elements[head];
    }

    void add(int value) {
        if (size == elements.length) {
            throw new IllegalStateException("ring of " + elements.length + " is full");
        }
        elements[index(size)] = value;
        size++;
    }

    /**
     * Removes and returns the oldest element, or with {@code random} non-null a uniformly random one (the
     * oldest takes the chosen one's place).
     */
    int take(RandomGenerator random) {
        int oldest = peek();
        if (random != null && size > 1) {
            int chosen = index(random.nextInt(size));
            int value = elements[chosen];
            elements[chosen] = oldest;
            oldest = value;
        }
        head = index(1);
        size--;
        return oldest;
    }

    void clear() {
        head = 0;
        size = 0;
    }

    private int index(int offset) {
        int i = head + offset;
        return i >= elements.length ? i - elements.length : i;
    }
}
