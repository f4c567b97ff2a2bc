package dev.transferengine.core;

import dev.transferengine.api.Access;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.ProviderDomain;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The persistent receives of a worker's group (on its NIC 0): posting a {@link ReceiveSetImpl}'s buffers, handing
 * each message to its handler on the callback thread, and re-posting the buffer afterwards ({@link #repost()}, one
 * part of the duty cycle). Provider contexts are {@link Worker#RECEIVE_FLAG} plus a slot number. Worker thread,
 * except {@link #hasReposts()} and the re-post queue, which the callback thread fills.
 */
final class ReceivePosts {
    private final Worker worker;
    private final CompletionDispatcher dispatcher;
    private final List<ReceiveSetImpl> sets = new ArrayList<>();
    private final ConcurrentLinkedQueue<Integer> reposts = new ConcurrentLinkedQueue<>();
    private final ArrayList<Integer> retries = new ArrayList<>();
    private ReceiveSetImpl[] slotSet = new ReceiveSetImpl[0];
    private int[] slotIndex = new int[0];

    ReceivePosts(Worker worker, CompletionDispatcher dispatcher) {
        this.worker = worker;
        this.dispatcher = dispatcher;
    }

    /** Registers a receive set's buffers and posts them. Worker thread (through {@link Worker#call}). */
    Void add(ReceiveSetImpl set) {
        set.region = worker.register(set.buffers, Access.LOCAL);
        set.firstSlot = slotSet.length;
        int total = set.firstSlot + set.count;
        slotSet = Arrays.copyOf(slotSet, total);
        slotIndex = Arrays.copyOf(slotIndex, total);
        for (int i = 0; i < set.count; i++) {
            slotSet[set.firstSlot + i] = set;
            slotIndex[set.firstSlot + i] = i;
        }
        sets.add(set);
        for (int i = 0; i < set.count; i++) {
            post(set.firstSlot + i);
        }
        return null;
    }

    private void post(int slot) {
        ReceiveSetImpl set = slotSet[slot];
        if (!set.isOpen() || worker.isStopping()) {
            return;
        }
        int rc = worker.domains().domain(0).postReceive(set.region.nic(0), set.sliceAddress(slotIndex[slot]),
                set.bufferBytes, Worker.RECEIVE_FLAG | slot);
        if (rc != ProviderDomain.POSTED) {
            retries.add(slot);
        }
    }

    /** A message arrived in {@code slot}: the handler gets it on the callback thread, then the slot is re-posted. */
    void onReceive(int slot, long lengthBytes) {
        if (slot < 0 || slot >= slotSet.length) {
            return;
        }
        ReceiveSetImpl set = slotSet[slot];
        if (!set.isOpen()) {
            return;
        }
        set.countReceived();
        int index = slotIndex[slot];
        dispatcher.run(() -> {
            try {
                if (set.isOpen()) {
                    set.handler.onMessage(set.slice(index, lengthBytes));
                }
            } finally {
                reposts.add(slot);
                worker.wakeUp();
            }
        });
    }

    /** The receive in {@code slot} failed: the handler hears of it, then the slot is re-posted. */
    void onError(int slot, TransferException error) {
        if (slot < 0 || slot >= slotSet.length) {
            return;
        }
        ReceiveSetImpl set = slotSet[slot];
        dispatcher.run(() -> {
            try {
                if (set.isOpen()) {
                    set.handler.onError(error);
                }
            } finally {
                reposts.add(slot);
            }
        });
    }

    /** Whether buffers wait to be re-posted. Any thread. */
    boolean hasReposts() {
        return !reposts.isEmpty();
    }

    /** Re-posts the buffers whose handlers returned, and retries refused posts; returns the number re-posted. */
    int repost() {
        int n = 0;
        if (!retries.isEmpty()) {
            List<Integer> retry = new ArrayList<>(retries);
            retries.clear();
            for (int slot : retry) {
                post(slot); // not counted as work: a full queue must let the idle strategy back off
            }
        }
        for (Integer slot = reposts.poll(); slot != null; slot = reposts.poll()) {
            post(slot);
            n++;
        }
        return n;
    }

    /** Closes every receive set and frees its buffers. Worker thread, at shutdown after the domains closed. */
    void closeAll() {
        for (ReceiveSetImpl set : sets) {
            set.close();
            set.arena.close();
        }
        sets.clear();
    }
}
