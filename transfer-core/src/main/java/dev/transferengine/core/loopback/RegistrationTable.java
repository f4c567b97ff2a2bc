package dev.transferengine.core.loopback;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * A domain's registrations, indexed by remote key. A key is {@code (slot << 32) | secret}: the slot makes
 * lookups O(1), the 32 random secret bits (never 0, never the slot's previous secret) make a guessed or
 * stale key fail. Every lookup compares the whole key.
 *
 * <p>Threading: {@link #add} and {@link #remove} run on the owning domain's worker thread only;
 * {@link #lookup} runs on any thread. Slots are published with release stores and read with acquire
 * loads, so a writer that finds a registration sees it fully built; the slot array itself is replaced
 * (never mutated in place by growth) and published through a volatile field.
 */
final class RegistrationTable {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(LoopbackRegistration[].class);
    private static final int INITIAL_SLOTS = 64;

    private volatile LoopbackRegistration[] slots = new LoopbackRegistration[INITIAL_SLOTS];
    private int[] lastSecret = new int[INITIAL_SLOTS];
    private int[] freeSlots = new int[INITIAL_SLOTS];
    private int freeCount;
    private int usedSlots;
    private final SplittableRandom secrets;

    RegistrationTable(long secretSeed) {
        this.secrets = new SplittableRandom(secretSeed);
    }

    /** A fresh, unused key; the caller builds the registration and then {@link #publish}es it. */
    long newKey() {
        int slot = freeCount > 0 ? freeSlots[--freeCount] : claimNewSlot();
        int secret;
        do {
            secret = secrets.nextInt();
        } while (secret == 0 || secret == lastSecret[slot]);
        lastSecret[slot] = secret;
        return ((long) slot << 32) | (secret & 0xFFFF_FFFFL);
    }

    private int claimNewSlot() {
        if (usedSlots == slots.length) {
            int grown = Math.multiplyExact(slots.length, 2);
            slots = Arrays.copyOf(slots, grown);
            lastSecret = Arrays.copyOf(lastSecret, grown);
            freeSlots = Arrays.copyOf(freeSlots, grown);
        }
        return usedSlots++;
    }

    void publish(LoopbackRegistration registration) {
        SLOT.setRelease(slots, slotOf(registration.remoteKey()), registration);
    }

    /** Removes {@code registration} if it is still the one at its slot; returns whether it was. */
    boolean remove(LoopbackRegistration registration) {
        int slot = slotOf(registration.remoteKey());
        if (SLOT.getAcquire(slots, slot) != registration) {
            return false;
        }
        SLOT.setRelease(slots, slot, (LoopbackRegistration) null);
        freeSlots[freeCount++] = slot;
        return true;
    }

    /** The registration with exactly {@code key}, or null. Any thread. */
    LoopbackRegistration lookup(long key) {
        LoopbackRegistration[] current = slots;
        long slot = key >>> 32;
        if (slot >= current.length) {
            return null;
        }
        LoopbackRegistration registration = (LoopbackRegistration) SLOT.getAcquire(current, (int) slot);
        return registration != null && registration.remoteKey() == key ? registration : null;
    }

    /** Empties the table, handing each registration left to {@code action} first. Owner thread. */
    void clear(Consumer<LoopbackRegistration> action) {
        LoopbackRegistration[] current = slots;
        for (int slot = 0; slot < usedSlots; slot++) {
            LoopbackRegistration registration = (LoopbackRegistration) SLOT.getAcquire(current, slot);
            if (registration != null) {
                SLOT.setRelease(current, slot, (LoopbackRegistration) null);
                action.accept(registration);
            }
        }
        freeCount = 0;
        usedSlots = 0;
    }

    private static int slotOf(long key) {
        return (int) (key >>> 32);
    }
}
