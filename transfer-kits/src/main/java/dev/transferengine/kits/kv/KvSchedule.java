package dev.transferengine.kits.kv;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.PagedWrite;
import dev.transferengine.api.RemoteRegion;
import dev.transferengine.api.Routing;
import dev.transferengine.api.SingleWrite;
import dev.transferengine.api.MemoryRegion;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Which writes a hand-off is made of, and how many imms each decoder rank counts. Both sides compute it from the
 * same inputs, so no count travels on the wire.
 *
 * <p>For prefiller rank {@code p} (heads {@code Hp}) and decoder rank {@code d} (heads {@code Hd}) that share
 * heads {@code H = Hp ∩ Hd}, every layer's pages go as one {@link PagedWrite} per chunk: "page" {@code 2i + kv}
 * of stride {@code halfPage} is the K ({@code kv = 0}) or V half of cache page {@code i}, the page offset selects
 * the first shared head ({@code (H.first - Hp.first) * headBlock} at the source, {@code (H.first - Hd.first) *
 * headBlock} at the destination) and the page length covers {@code |H|} heads: GQA head selection by page offset
 * and stride, one write per half page whatever the two tensor-parallel sizes. Rank pairs without shared heads
 * write nothing. Prefiller rank {@code d mod prefillTp} writes decoder rank {@code d}'s context with one single
 * write pinned to NIC 0 (one imm whatever its NIC count).
 *
 * <p>So decoder rank {@code d} counts {@code layers * 2 * pages * |{p : Hp ∩ Hd ≠ ∅}|}, plus 1 with a context.
 */
public final class KvSchedule {
    private KvSchedule() {
    }

    /** The imms decoder rank {@code decoderRank} counts for a hand-off of {@code pages} pages. */
    public static long expectedImms(KvLayout layout, int prefillTp, int decodeTp, int decoderRank, int pages,
                                    boolean withContext) {
        KvLayout.HeadRange mine = layout.headsOf(decoderRank, decodeTp);
        long sources = 0;
        for (int p = 0; p < prefillTp; p++) {
            if (layout.headsOf(p, prefillTp).intersect(mine).count() > 0) {
                sources++;
            }
        }
        return (long) layout.layers() * 2 * pages * sources + (withContext ? 1 : 0);
    }

    /** The imms one prefiller rank's writes of one layer and {@code pages} pages carry to decoder rank {@code d}. */
    static long immsPerLayer(KvLayout layout, int prefillRank, int prefillTp, int decodeTp, int d, int pages) {
        KvLayout.HeadRange shared = layout.headsOf(prefillRank, prefillTp).intersect(layout.headsOf(d, decodeTp));
        return shared.count() > 0 ? 2L * pages : 0;
    }

    /**
     * The write that moves pages {@code [from, to)} of {@code layer} from {@code src} (its pages {@code srcPages})
     * to decoder rank {@code d} (its pages {@code dstPages}), or null when the two ranks share no head.
     */
    static PagedWrite layerWrite(KvCache src, int[] srcPages, KvMessage.DecoderTarget target, int d, int decodeTp,
                                 int[] dstPages, int layer, int from, int to, int imm) {
        KvLayout layout = src.layout();
        KvLayout.HeadRange dstHeads = layout.headsOf(d, decodeTp);
        KvLayout.HeadRange shared = src.heads().intersect(dstHeads);
        if (shared.count() == 0) {
            return null;
        }
        long block = layout.headBlockBytes();
        long dstHalf = block * dstHeads.count();
        int n = to - from;
        int[] s = new int[2 * n];
        int[] t = new int[2 * n];
        for (int i = 0; i < n; i++) {
            for (int kv = 0; kv < 2; kv++) {
                s[2 * i + kv] = 2 * srcPages[from + i] + kv;
                t[2 * i + kv] = 2 * dstPages[from + i] + kv;
            }
        }
        long srcOffset = src.layerOffset(layer) + (shared.first() - src.heads().first()) * block;
        long dstOffset = (long) layer * target.capacityPages() * 2 * dstHalf + (shared.first() - dstHeads.first()) * block;
        return new PagedWrite(shared.count() * block, src.region(), s, src.halfPageBytes(), srcOffset,
                target.kv(), t, dstHalf, dstOffset, OptionalInt.of(imm));
    }

    /** Every write of {@code layer}, pages {@code [from, to)}, from {@code src} to all decoder ranks. */
    static List<Addressed> layerWrites(KvCache src, int[] srcPages, KvMessage.Request request, int layer, int from,
                                       int to) {
        List<KvMessage.DecoderTarget> targets = request.targets();
        int[] dstPages = request.pages();
        List<Addressed> writes = new ArrayList<>(targets.size());
        for (int d = 0; d < targets.size(); d++) {
            PagedWrite w = layerWrite(src, srcPages, targets.get(d), d, targets.size(), dstPages, layer, from, to,
                    request.imm());
            if (w != null) {
                writes.add(new Addressed(d, w, w.pageCount()));
            }
        }
        return writes;
    }

    /** The context writes prefiller rank {@code src.rank()} owes: one per decoder rank it serves. */
    static List<Addressed> contextWrites(KvCache src, KvMessage.Request request, MemoryRegion context,
                                         long contextOffset) {
        List<Addressed> writes = new ArrayList<>();
        List<KvMessage.DecoderTarget> targets = request.targets();
        for (int d = src.rank(); d < targets.size(); d += src.tpSize()) {
            RemoteRegion dst = targets.get(d).context();
            if (dst == null) {
                throw new InvalidRequestException("decoder rank " + d + " sent no context buffer");
            }
            writes.add(new Addressed(d, SingleWrite.withImm(context, contextOffset, request.contextBytes(), dst,
                    targets.get(d).contextOffset(), request.imm()).routed(Routing.pinned(0)), 1));
        }
        return writes;
    }

    /** A write, the decoder rank it goes to, and the imms it carries there. */
    record Addressed(int decoderRank, dev.transferengine.api.TransferRequest write, long imms) {
    }
}
