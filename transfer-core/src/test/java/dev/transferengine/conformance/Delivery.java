package dev.transferengine.conformance;

import dev.transferengine.api.ImmCounter;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.api.TransferRequest;
import dev.transferengine.api.TransferTimeoutException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One round of a data test: requests that one engine submits, all carrying one imm value, the number of
 * imms each receiving engine must count, and the buffers whose contents must then match their images.
 * Run order: counters first (so no imm escapes), submit, wait for every sender completion, wait for
 * every receiver's count (a sender's "done" does not prove remote landing), then compare memory.
 * Requests without imm are verified by polling memory until it matches.
 */
final class Delivery {
    private final String what;
    private final int imm;
    private final List<TransferRequest> requests = new ArrayList<>();
    private final Map<TransferEngine, Long> imms = new LinkedHashMap<>();
    private final List<GuardedBuffer> checked = new ArrayList<>();

    Delivery(String what, int imm) {
        this.what = what;
        this.imm = imm;
    }

    Delivery submit(TransferRequest request) {
        requests.add(request);
        return this;
    }

    /** {@code receiver} must count {@code count} more imms of this delivery's value. */
    Delivery expectImms(TransferEngine receiver, long count) {
        imms.merge(receiver, count, Long::sum);
        return this;
    }

    Delivery check(GuardedBuffer... buffers) {
        checked.addAll(List.of(buffers));
        return this;
    }

    void run(TransferEngine sender) {
        Map<TransferEngine, ImmCounter> counters = new LinkedHashMap<>();
        imms.forEach((engine, count) -> counters.put(engine, engine.immCounter(imm)));
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (TransferRequest r : requests) {
            futures.add(sender.submit(r));
        }
        for (int i = 0; i < futures.size(); i++) {
            Waits.get(futures.get(i), what + ": request " + i + " " + describe(requests.get(i)));
        }
        for (Map.Entry<TransferEngine, ImmCounter> e : counters.entrySet()) {
            long expected = imms.get(e.getKey());
            ImmCounter counter = e.getValue();
            try {
                counter.await(expected, Waits.DEADLINE);
            } catch (TransferTimeoutException timeout) {
                fail(what + ": receiver " + e.getKey().mainAddress() + " counted " + counter.arrived()
                        + " imms of 0x" + Integer.toHexString(imm) + ", expected " + expected);
            }
            assertEquals(expected, counter.arrived(), what + ": more imms than ImmAccounting promises");
        }
        if (imms.values().stream().allMatch(c -> c == 0)) {
            Waits.until(() -> checked.stream().allMatch(GuardedBuffer::matches), () -> what + ": bytes to land");
        }
        for (GuardedBuffer b : checked) {
            b.assertMatches(what);
        }
        counters.keySet().forEach(engine -> engine.removeImmCounter(imm));
    }

    private static String describe(TransferRequest r) {
        String s = r.toString();
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }
}
