package dev.transferengine.kits.kv;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.MalformedEncodingException;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.kits.kv.KvMessage.Cancel;
import dev.transferengine.kits.kv.KvMessage.Cancelled;
import dev.transferengine.kits.kv.KvMessage.DecoderTarget;
import dev.transferengine.kits.kv.KvMessage.Failed;
import dev.transferengine.kits.kv.KvMessage.Ping;
import dev.transferengine.kits.kv.KvMessage.Pong;
import dev.transferengine.kits.kv.KvMessage.Request;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The wire form of {@link KvMessage}s: little-endian, {@code 'K', version 1, type, sender address}, then the
 * fields, every variable-length part with a 32-bit length prefix. Decoding anything else raises
 * {@link MalformedEncodingException}. Stateless.
 */
final class KvWire {
    static final byte MAGIC = 'K';
    static final byte VERSION = 1;

    private KvWire() {
    }

    /** The wire form. */
    static byte[] encode(KvMessage m) {
        Writer w = new Writer();
        w.b.put(MAGIC).put(VERSION).put(typeOf(m));
        w.bytes(m.from().encode());
        switch (m) {
            case Request r -> {
                w.grow(64).b.putLong(r.requestId()).putInt(r.imm()).putLong(r.tokens());
                KvLayout l = r.layout();
                w.b.putInt(l.layers()).putInt(l.kvHeads()).putInt(l.headDim()).putInt(l.bytesPerElement())
                        .putInt(l.pageTokens()).putInt(r.targets().size());
                for (DecoderTarget t : r.targets()) {
                    w.bytes(t.kv().encode());
                    w.grow(12).b.putInt(t.capacityPages()).putLong(t.contextOffset());
                    w.bytes(t.context() == null ? new byte[0] : t.context().encode());
                }
                int[] pages = r.pages();
                w.grow(12 + 4L * pages.length).b.putLong(r.contextBytes()).putInt(pages.length);
                for (int p : pages) {
                    w.b.putInt(p);
                }
            }
            case Cancel c -> w.grow(8).b.putLong(c.requestId());
            case Cancelled c -> {
                long[] imms = c.immsPerDecoderRank();
                w.grow(12 + 8L * imms.length).b.putLong(c.requestId()).putInt(imms.length);
                for (long n : imms) {
                    w.b.putLong(n);
                }
            }
            case Failed f -> {
                w.grow(8).b.putLong(f.requestId());
                w.bytes(f.reason().getBytes(StandardCharsets.UTF_8));
            }
            case Ping p -> {
            }
            case Pong p -> {
            }
        }
        return w.toArray();
    }

    /** Decodes {@link #encode}'s output. */
    static KvMessage decode(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        try {
            if (b.get() != MAGIC || b.get() != VERSION) {
                throw new MalformedEncodingException("kv message: bad magic or version");
            }
            byte type = b.get();
            DomainAddress from = DomainAddress.decode(readBytes(b));
            KvMessage m = switch (type) {
                case 1 -> readRequest(b, from);
                case 2 -> new Cancel(b.getLong(), from);
                case 3 -> {
                    long id = b.getLong();
                    long[] imms = new long[count(b, 8)];
                    for (int i = 0; i < imms.length; i++) {
                        imms[i] = b.getLong();
                    }
                    yield new Cancelled(id, from, imms);
                }
                case 4 -> new Failed(b.getLong(), from, new String(readBytes(b), StandardCharsets.UTF_8));
                case 5 -> new Ping(from);
                case 6 -> new Pong(from);
                default -> throw new MalformedEncodingException("kv message: unknown type " + type);
            };
            if (b.hasRemaining()) {
                throw new MalformedEncodingException("kv message: " + b.remaining() + " trailing bytes");
            }
            return m;
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            if (e instanceof MalformedEncodingException me) {
                throw me;
            }
            throw new MalformedEncodingException("kv message: truncated or invalid (" + bytes.length + " bytes)", e);
        }
    }

    private static Request readRequest(ByteBuffer b, DomainAddress from) {
        long id = b.getLong();
        int imm = b.getInt();
        long tokens = b.getLong();
        KvLayout layout = new KvLayout(b.getInt(), b.getInt(), b.getInt(), b.getInt(), b.getInt());
        int targetCount = count(b, 1);
        List<DecoderTarget> targets = new ArrayList<>(targetCount);
        for (int i = 0; i < targetCount; i++) {
            RemoteRegion kv = RemoteRegion.decode(readBytes(b));
            int capacity = b.getInt();
            long contextOffset = b.getLong();
            byte[] ctx = readBytes(b);
            targets.add(new DecoderTarget(kv, capacity, ctx.length == 0 ? null : RemoteRegion.decode(ctx),
                    contextOffset));
        }
        long contextBytes = b.getLong();
        int[] pages = new int[count(b, 4)];
        for (int i = 0; i < pages.length; i++) {
            pages[i] = b.getInt();
        }
        return new Request(id, from, imm, tokens, layout, targets, contextBytes, pages);
    }

    private static byte typeOf(KvMessage m) {
        return switch (m) {
            case Request r -> 1;
            case Cancel c -> 2;
            case Cancelled c -> 3;
            case Failed f -> 4;
            case Ping p -> 5;
            case Pong p -> 6;
        };
    }

    /** A count prefix, checked against what is left so garbage cannot make us allocate gigabytes. */
    private static int count(ByteBuffer b, int elementBytes) {
        int n = b.getInt();
        if (n < 0 || (long) n * elementBytes > b.remaining()) {
            throw new MalformedEncodingException("kv message: count " + n + " does not fit in " + b.remaining()
                    + " bytes");
        }
        return n;
    }

    private static byte[] readBytes(ByteBuffer b) {
        byte[] out = new byte[count(b, 1)];
        b.get(out);
        return out;
    }

    /** A growing little-endian buffer. */
    private static final class Writer {
        ByteBuffer b = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);

        Writer grow(long more) {
            if (b.remaining() < more) {
                long size = Math.max(b.capacity() * 2L, b.position() + more);
                ByteBuffer bigger = ByteBuffer.allocate(Math.toIntExact(size)).order(ByteOrder.LITTLE_ENDIAN);
                bigger.put(b.flip());
                b = bigger;
            }
            return this;
        }

        void bytes(byte[] raw) {
            grow(4L + raw.length).b.putInt(raw.length).put(raw);
        }

        byte[] toArray() {
            byte[] out = new byte[b.position()];
            b.flip().get(out);
            return out;
        }
    }
}
