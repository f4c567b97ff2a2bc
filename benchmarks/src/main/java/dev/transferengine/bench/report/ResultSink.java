package dev.transferengine.bench.report;

/** Where results go: an aligned table for people or JSON for machines. Used by the benchmark thread. */
public interface ResultSink {

    /** Before the first row. */
    void start(RunInfo info);

    /** One measured row, as soon as it is measured. */
    void row(CaseResult result);

    /** After the last row. */
    void finish();
}
