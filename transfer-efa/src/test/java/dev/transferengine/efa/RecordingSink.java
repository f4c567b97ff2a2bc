package dev.transferengine.efa;

import dev.transferengine.api.TransferException;
import dev.transferengine.spi.CompletionSink;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A {@link CompletionSink} that records everything, for provider-level tests. Single-threaded. */
public final class RecordingSink implements CompletionSink {
    public final List<Long> completed = new ArrayList<>();
    public final Map<Long, Long> received = new HashMap<>();
    public final Map<Long, TransferException> errors = new HashMap<>();
    public final List<Integer> imms = new ArrayList<>();
    public int duplicateReports;

    @Override
    public void onComplete(long context) {
        if (completed.contains(context) || errors.containsKey(context)) {
            duplicateReports++;
        }
        completed.add(context);
    }

    @Override
    public void onReceive(long context, long lengthBytes) {
        if (received.put(context, lengthBytes) != null) {
            duplicateReports++;
        }
    }

    @Override
    public void onError(long context, TransferException error) {
        if (errors.put(context, error) != null || completed.contains(context)) {
            duplicateReports++;
        }
    }

    @Override
    public void onImm(int imm) {
        imms.add(imm);
    }

    /** Whether the operation with this context reported anything. */
    public boolean finished(long context) {
        return completed.contains(context) || errors.containsKey(context) || received.containsKey(context);
    }
}
