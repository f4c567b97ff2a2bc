package dev.transferengine.kits.kv;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.RemoteRegion;

import java.util.List;
import java.util.Objects;

/**
 * The kit's control messages, sent with SEND/RECV between the decoder (its rank 0's engine) and each prefiller
 * rank's engine. Every message names its sender's {@linkplain dev.transferengine.api.TransferEngine#mainAddress
 * main address}, where answers go. {@link KvWire} encodes them.
 */
sealed interface KvMessage {
    /** The sender's main address. */
    DomainAddress from();

    /**
     * Where one decoder rank wants its part: its cache's descriptor and capacity, and optionally a context buffer.
     *
     * @param context       the context region's descriptor, or null when this rank gets no context
     * @param contextOffset where in {@code context} the context goes
     */
    record DecoderTarget(RemoteRegion kv, int capacityPages, RemoteRegion context, long contextOffset) {
        public DecoderTarget {
            Objects.requireNonNull(kv, "kv");
        }
    }

    /**
     * Decoder to prefiller: prefill {@code tokens} tokens and write them into {@code pages} of every decoder rank;
     * each write carries {@code imm}; the context ({@code contextBytes}, 0 for none) goes with a single write.
     */
    record Request(long requestId, DomainAddress from, int imm, long tokens, KvLayout layout,
                   List<DecoderTarget> targets, long contextBytes, int[] pages) implements KvMessage {
        public Request {
            targets = List.copyOf(targets);
            pages = pages.clone();
        }

        @Override
        public int[] pages() {
            return pages.clone();
        }
    }

    /** Decoder to prefiller: stop writing request {@code requestId} and confirm. */
    record Cancel(long requestId, DomainAddress from) implements KvMessage {
    }

    /**
     * Prefiller to decoder: nothing more of {@code requestId} will be written; {@code immsPerDecoderRank[d]} imms
     * were carried by its writes that completed to decoder rank {@code d} (the decoder waits for that many before
     * it releases the pages).
     */
    record Cancelled(long requestId, DomainAddress from, long[] immsPerDecoderRank) implements KvMessage {
        public Cancelled {
            immsPerDecoderRank = immsPerDecoderRank.clone();
        }

        @Override
        public long[] immsPerDecoderRank() {
            return immsPerDecoderRank.clone();
        }
    }

    /** Prefiller to decoder: a write of {@code requestId} failed (the decoder then cancels it everywhere). */
    record Failed(long requestId, DomainAddress from, String reason) implements KvMessage {
    }

    /** Decoder to prefiller: heartbeat. */
    record Ping(DomainAddress from) implements KvMessage {
    }

    /** Prefiller to decoder: heartbeat answer. */
    record Pong(DomainAddress from) implements KvMessage {
    }
}
