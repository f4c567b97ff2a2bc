/**
 * What the bench prints: a sweep's rows as a table or JSON ({@link dev.transferengine.bench.report.ResultSink},
 * {@link dev.transferengine.bench.report.RunInfo}, {@link dev.transferengine.bench.report.CaseResult}),
 * {@code compare}'s rows ({@link dev.transferengine.bench.report.CompareReport}), engine counters
 * ({@link dev.transferengine.bench.report.CountersReport}) and the progress bar on stderr.
 */
package dev.transferengine.bench.report;
