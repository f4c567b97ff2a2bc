/**
 * What the bench measures and how it drives the engines: the sweep ({@link dev.transferengine.bench.cases.SweepPlan})
 * and its rows ({@link dev.transferengine.bench.cases.WriteCase}: single and paged writes over
 * {@link dev.transferengine.bench.cases.BenchBuffers}), run with a window in flight by
 * {@link dev.transferengine.bench.cases.CaseRunner}; and the C baseline's write pattern through the Java engine
 * ({@link dev.transferengine.bench.cases.EnginePatternRun}, {@link dev.transferengine.bench.cases.WriteWindow}),
 * measured as {@link dev.transferengine.bench.cases.RateSample}s.
 */
package dev.transferengine.bench.cases;
