package dev.transferengine.bench.report;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Prints the run as one JSON document ({@code {"run": {...}, "results": [...]}}) when it finishes. */
public final class JsonReport implements ResultSink {
    private final PrintWriter out;
    private RunInfo info;
    private final List<CaseResult> results = new ArrayList<>();

    public JsonReport(PrintWriter out) {
        this.out = out;
    }

    /** The document's shape; Gson writes records by their components. */
    private record Document(RunInfo run, List<CaseResult> results) {
    }

    @Override
    public void start(RunInfo runInfo) {
        this.info = runInfo;
    }

    @Override
    public void row(CaseResult result) {
        results.add(result);
    }

    @Override
    public void finish() {
        Gson gson = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();
        out.println(gson.toJson(new Document(info, results)));
        out.flush();
    }
}
