package dev.transferengine.core.loopback;

import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Records everything a domain's poll delivers, in delivery order. Used from one thread. */
final class RecordingSink implements CompletionSink {
    final List<Long> completed = new ArrayList<>();
    final Map<Long, TransferException> errors = new LinkedHashMap<>();
    final List<long[]> received = new ArrayList<>();
    final List<Integer> imms = new ArrayList<>();

    @Override
    public void onComplete(long context) {
        completed.add(context);
    }

    @Override
    public void onReceive(long context, long lengthBytes) {
        received.add(new long[] {context, lengthBytes});
    }

    @Override
    public void onError(long context, TransferException error) {
        if (errors.put(context, error) != null) {
            throw new AssertionError("second error for context " + context);
        }
    }

    @Override
    public void onImm(int imm) {
        imms.add(imm);
    }

    /** Completions and errors together: the operations that finished. */
    int finished() {
        return completed.size() + errors.size();
    }

    int events() {
        return finished() + received.size() + imms.size();
    }
}
