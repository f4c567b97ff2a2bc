package dev.transferengine.kits.kv;

import dev.transferengine.api.Access;
import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.MalformedEncodingException;
import dev.transferengine.api.MemoryRegion;
import dev.transferengine.api.ReceiveSet;
import dev.transferengine.api.TransferCallback;
import dev.transferengine.api.TransferEngine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Consumer;

/**
 * Sends and receives {@link KvMessage}s on one engine: a registered buffer of send slots (a message is copied
 * into a free slot and the slot is freed when the send completes) and persistent receives whose messages are
 * decoded and handed to a consumer on the engine's callback thread.
 *
 * <p>A send to a peer that is gone holds its slot until the engine's transfer timeout fails it, so callers must
 * not repeat sends to a silent peer without bound (the decoder keeps at most one ping in flight per peer).
 *
 * <p>{@link #send} never blocks: when every slot is busy the message waits in a backlog that completions drain.
 * That matters because the kit sends from receive handlers and completion callbacks, which run on the same
 * callback thread that frees the slots. Thread-safe.
 */
final class KvMessenger implements AutoCloseable {
    /** Largest encoded message: a request of about 7,000 pages (112K tokens at 16-token pages) fits. */
    static final int MAX_MESSAGE_BYTES = 32 * 1024;
    private static final int SEND_SLOTS = 16;
    private static final int RECEIVES = 32;
    private static final System.Logger LOG = System.getLogger(KvMessenger.class.getName());

    private final TransferEngine engine;
    /** Automatic: a send still in flight at close may read its slot until the engine closes. */
    private final Arena arena = Arena.ofAuto();
    private final MemoryRegion sendRegion;
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private final ArrayDeque<Pending> backlog = new ArrayDeque<>();
    private final ReceiveSet receives;
    private boolean closed;

    private record Pending(DomainAddress to, byte[] bytes, Runnable onSettled) {
    }

    KvMessenger(TransferEngine engine, Consumer<KvMessage> onMessage) {
        this.engine = engine;
        MemorySegment buffer = arena.allocate((long) SEND_SLOTS * MAX_MESSAGE_BYTES, 64);
        this.sendRegion = engine.register(buffer, Access.LOCAL);
        for (int i = 0; i < SEND_SLOTS; i++) {
            freeSlots.add(i);
        }
        this.receives = engine.postReceives(MAX_MESSAGE_BYTES, RECEIVES, message -> {
            KvMessage m;
            try {
                m = KvWire.decode(message.toArray(ValueLayout.JAVA_BYTE));
            } catch (MalformedEncodingException e) {
                LOG.log(System.Logger.Level.WARNING, "dropping a malformed KV message: " + e.getMessage());
                return;
            }
            onMessage.accept(m);
        });
    }

    /** This engine's address, where peers send answers. */
    DomainAddress address() {
        return engine.mainAddress();
    }

    /**
     * Sends {@code message} to {@code to}; a failed send is logged (the heartbeat notices a peer that is gone).
     *
     * @throws InvalidRequestException when the encoded message exceeds {@link #MAX_MESSAGE_BYTES}
     */
    void send(DomainAddress to, KvMessage message) {
        send(to, message, () -> { });
    }

    /**
     * Sends {@code message} to {@code to} and runs {@code onSettled} (on the callback thread, or here) once the send
     * completed, failed, or was dropped because the messenger closed.
     */
    void send(DomainAddress to, KvMessage message, Runnable onSettled) {
        byte[] bytes = KvWire.encode(message);
        if (bytes.length > MAX_MESSAGE_BYTES) {
            throw new InvalidRequestException("a KV " + message.getClass().getSimpleName() + " of " + bytes.length
                    + " bytes exceeds the " + MAX_MESSAGE_BYTES + "-byte message limit");
        }
        int slot;
        synchronized (this) {
            if (!closed) {
                Integer free = freeSlots.poll();
                if (free == null) {
                    backlog.add(new Pending(to, bytes, onSettled));
                    return;
                }
                slot = free;
            } else {
                slot = -1;
            }
        }
        if (slot < 0) {
            onSettled.run();
            return;
        }
        post(slot, new Pending(to, bytes, onSettled));
    }

    private void post(int slot, Pending m) {
        DomainAddress to = m.to();
        byte[] bytes = m.bytes();
        long offset = (long) slot * MAX_MESSAGE_BYTES;
        MemorySegment.copy(bytes, 0, sendRegion.segment(), ValueLayout.JAVA_BYTE, offset, bytes.length);
        TransferCallback done = TransferCallback.of(() -> release(slot, m), e -> {
            LOG.log(System.Logger.Level.DEBUG, "KV message to " + to + " failed: " + e.getMessage());
            release(slot, m);
        });
        try {
            engine.send(to, sendRegion, offset, bytes.length, done);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "KV message to " + to + " not sent: " + e.getMessage());
            release(slot, m);
        }
    }

    private void release(int slot, Pending sent) {
        sent.onSettled().run();
        Pending next;
        synchronized (this) {
            next = closed ? null : backlog.poll();
            if (next == null) {
                freeSlots.add(slot);
                return;
            }
        }
        post(slot, next);
    }

    @Override
    public void close() {
        List<Pending> dropped;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            dropped = List.copyOf(backlog);
            backlog.clear();
        }
        dropped.forEach(m -> m.onSettled().run());
        receives.close();
        sendRegion.close();
    }
}
