package dev.transferengine.verbs;

import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Records what a domain's poll delivers and checks "exactly one outcome per context". One thread. */
final class Recorder implements CompletionSink {
    final List<Long> completed = new ArrayList<>();
    final Map<Long, TransferException> errors = new LinkedHashMap<>();
    final Map<Long, Long> received = new LinkedHashMap<>();
    final List<Integer> imms = new ArrayList<>();
    private final java.util.Set<Long> finished = new java.util.HashSet<>();

    @Override
    public void onComplete(long context) {
        once(context);
        completed.add(context);
    }

    @Override
    public void onReceive(long context, long lengthBytes) {
        once(context);
        received.put(context, lengthBytes);
    }

    @Override
    public void onError(long context, TransferException error) {
        once(context);
        errors.put(context, error);
    }

    @Override
    public void onImm(int imm) {
        imms.add(imm);
    }

    private void once(long context) {
        if (!finished.add(context)) {
            throw new AssertionError("context " + context + " reported twice");
        }
    }

    boolean done(long context) {
        return finished.contains(context);
    }

    long immCount(int imm) {
        return imms.stream().filter(i -> i == imm).count();
    }
}
