package dev.transferengine.verbs.internal;

import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

import java.util.Arrays;

/**
 * Send work requests towards one peer that the NIC never executed (flushed behind a refused request, or never
 * handed to the NIC before their queue pair was retired), kept with everything needed to post them again on the
 * peer's next queue pair set: the engine's context, opcode, local buffer and key, remote address and key, and
 * the immediate exactly as it sits in the work request (big-endian). First in, first out. Single-threaded (the
 * domain's worker). Grows by doubling; it is used only after a failure, never on the ordinary data path.
 */
final class HeldRequests {
    private long[] contexts = new long[16];
    private int[] opcodes = new int[16];
    private int[] lkeys = new int[16];
    private long[] sources = new long[16];
    private int[] lengths = new int[16];
    private long[] remoteAddresses = new long[16];
    private int[] rkeys = new int[16];
    private int[] rawImms = new int[16];
    private int first;
    private int end;

    /** Appends one request; {@code rawImm} is the work request's {@code imm_data} field as stored (big-endian). */
    void add(long context, int opcode, int lkey, long source, int length, long remoteAddress, int rkey, int rawImm) {
        if (end == contexts.length) {
            grow();
        }
        contexts[end] = context;
        opcodes[end] = opcode;
        lkeys[end] = lkey;
        sources[end] = source;
        lengths[end] = length;
        remoteAddresses[end] = remoteAddress;
        rkeys[end] = rkey;
        rawImms[end] = rawImm;
        end++;
    }

    private void grow() {
        int live = end - first;
        int capacity = live * 2 >= contexts.length ? contexts.length * 2 : contexts.length;
        contexts = shift(contexts, capacity, live);
        opcodes = shift(opcodes, capacity, live);
        lkeys = shift(lkeys, capacity, live);
        sources = shift(sources, capacity, live);
        lengths = shift(lengths, capacity, live);
        remoteAddresses = shift(remoteAddresses, capacity, live);
        rkeys = shift(rkeys, capacity, live);
        rawImms = shift(rawImms, capacity, live);
        first = 0;
        end = live;
    }

    private long[] shift(long[] a, int capacity, int live) {
        long[] b = new long[capacity];
        System.arraycopy(a, first, b, 0, live);
        return b;
    }

    private int[] shift(int[] a, int capacity, int live) {
        int[] b = new int[capacity];
        System.arraycopy(a, first, b, 0, live);
        return b;
    }

    public boolean isEmpty() {
        return first == end;
    }

    public int size() {
        return end - first;
    }

    /** Whether the oldest held request is a SEND (it goes to the message queue pair, writes to an RMA one). */
    public boolean nextIsSend() {
        return opcodes[first] == Ibv.IBV_WR_SEND;
    }

    int nextOpcode() {
        return opcodes[first];
    }

    long nextContext() {
        return contexts[first];
    }

    int nextLkey() {
        return lkeys[first];
    }

    long nextSource() {
        return sources[first];
    }

    int nextLength() {
        return lengths[first];
    }

    long nextRemoteAddress() {
        return remoteAddresses[first];
    }

    int nextRkey() {
        return rkeys[first];
    }

    int nextRawImm() {
        return rawImms[first];
    }

    /** Drops the oldest request (it was posted again). */
    void removeFirst() {
        first++;
        if (first == end) {
            first = 0;
            end = 0;
        }
    }

    /** Every held request fails with {@code error}; the list is empty afterwards. @return how many */
    public int failAll(TransferException error, CompletionSink sink) {
        int n = end - first;
        for (int i = first; i < end; i++) {
            sink.onError(contexts[i], error);
        }
        first = 0;
        end = 0;
        Arrays.fill(contexts, 0L);
        return n;
    }

    /** Forgets every held request without reporting it (the domain is closing). */
    public void clear() {
        first = 0;
        end = 0;
    }
}
