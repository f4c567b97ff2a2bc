package dev.transferengine.efa.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Receives for providers in FI_RX_CQ_DATA mode, where every WRITE carrying remote CQ data consumes a posted
 * receive at the target (EFA without unsolicited write-recv support).
 *
 * <p>Writes with imm and SENDs then compete for the same receive queue, so the engine's receive buffers cannot
 * be posted to the provider directly: an imm could consume one, a SEND could land in a buffer meant for imms.
 * Instead the domain keeps {@code count} staging receives of {@code slotBytes} each posted at all times:
 * <ul>
 *   <li>an imm that consumed one is reported and the staging receive is re-posted at once;</li>
 *   <li>a SEND that landed in one is parked until the engine has posted a receive, then copied into the
 *       engine's buffer and reported there, and the staging receive is re-posted. Parked messages hold their
 *       staging receive, so a receiver that posts nothing eventually back-pressures its senders;</li>
 *   <li>a SEND larger than {@code slotBytes} fails (the provider reports truncation) and the error goes to the
 *       next engine receive.</li>
 * </ul>
 * Engine receives wait in a FIFO; nothing is allocated per message. Single-threaded.
 */
final class StagedReceives {
    private final PostTemplates templates;
    private final OpContexts contexts;
    private final int slotBytes;
    private final long buffersBase;
    private final long buffersDescriptor;
    private final int[] contextSlot;

    /** Staging receives to (re)post: a stack of staging indices. */
    private final int[] toPost;
    private int toPostCount;

    /** Messages waiting for an engine receive (FIFO ring of staging indices, lengths, errors). */
    private final int[] parkedIndex;
    private final long[] parkedLength;
    private final TransferException[] parkedError;
    private int parkedHead;
    private int parkedCount;

    /** Engine receives waiting for a message (FIFO ring). */
    private final long[] waitingContext;
    private final long[] waitingAddress;
    private final long[] waitingLength;
    private int waitingHead;
    private int waitingCount;

    StagedReceives(Arena arena, MemoryRegistrations registrations, PostTemplates templates, OpContexts contexts,
                   int count, int slotBytes, int engineQueueCapacity) {
        this.templates = templates;
        this.contexts = contexts;
        this.slotBytes = slotBytes;
        MemorySegment buffers = arena.allocate((long) count * slotBytes, 4096);
        LibfabricMemory mr = registrations.register(buffers, false);
        this.buffersBase = buffers.address();
        this.buffersDescriptor = mr.descriptor();
        this.contextSlot = new int[count];
        this.toPost = new int[count];
        for (int i = 0; i < count; i++) {
            contextSlot[i] = contexts.acquire(OpContexts.STAGED_RECEIVE, i);
            if (contextSlot[i] < 0) {
                throw new IllegalStateException("context pool smaller than the staging receives");
            }
            toPost[toPostCount++] = count - 1 - i;
        }
        this.parkedIndex = new int[count];
        this.parkedLength = new long[count];
        this.parkedError = new TransferException[count];
        this.waitingContext = new long[engineQueueCapacity];
        this.waitingAddress = new long[engineQueueCapacity];
        this.waitingLength = new long[engineQueueCapacity];
        postPending();
    }

    /** Queues an engine receive; false when the queue is full (the engine retries after polling). */
    boolean enqueue(long address, long length, long context) {
        if (waitingCount == waitingContext.length) {
            return false;
        }
        int i = (waitingHead + waitingCount++) % waitingContext.length;
        waitingContext[i] = context;
        waitingAddress[i] = address;
        waitingLength[i] = length;
        return true;
    }

    /** A remote write's imm consumed staging receive {@code index}: post it again. */
    void consumedByImm(int index) {
        toPost[toPostCount++] = index;
    }

    void messageArrived(int index, long length) {
        park(index, length, null);
    }

    void failed(int index, TransferException error) {
        park(index, 0, error);
    }

    private void park(int index, long length, TransferException error) {
        int i = (parkedHead + parkedCount++) % parkedIndex.length;
        parkedIndex[i] = index;
        parkedLength[i] = length;
        parkedError[i] = error;
    }

    /** Hands parked messages to waiting engine receives and re-posts staging receives; returns deliveries. */
    int deliver(CompletionSink sink) {
        int delivered = 0;
        while (parkedCount > 0 && waitingCount > 0) {
            int index = parkedIndex[parkedHead];
            long length = parkedLength[parkedHead];
            TransferException error = parkedError[parkedHead];
            parkedError[parkedHead] = null;
            parkedHead = (parkedHead + 1) % parkedIndex.length;
            parkedCount--;
            long context = waitingContext[waitingHead];
            long address = waitingAddress[waitingHead];
            long capacity = waitingLength[waitingHead];
            waitingHead = (waitingHead + 1) % waitingContext.length;
            waitingCount--;
            if (error != null) {
                sink.onError(context, error);
            } else if (length > capacity) {
                sink.onError(context, new TransferException(ErrorCategory.PROVIDER, "a " + length
                        + "-byte message does not fit the posted " + capacity + "-byte receive buffer",
                        -FiConst.Err.FI_ETRUNC, "Truncation error", null));
            } else {
                MemorySegment.copy(Native.EVERYTHING, slotAddress(index), Native.EVERYTHING, address, length);
                sink.onReceive(context, length);
            }
            toPost[toPostCount++] = index;
            delivered++;
        }
        postPending();
        return delivered;
    }

    /** Posts staging receives that need it; one the provider refuses now (-FI_EAGAIN) is tried on the next poll. */
    private void postPending() {
        while (toPostCount > 0) {
            int index = toPost[toPostCount - 1];
            long rc = templates.receive(slotAddress(index), slotBytes, buffersDescriptor,
                    contexts.address(contextSlot[index]));
            if (rc != 0) {
                return;
            }
            toPostCount--;
        }
    }

    private long slotAddress(int index) {
        return buffersBase + (long) index * slotBytes;
    }
}
