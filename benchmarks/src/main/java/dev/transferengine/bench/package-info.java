/**
 * {@code transfer-bench}: the entry point {@link dev.transferengine.bench.TransferBench} (the jar's Main-Class,
 * also what the GPU kit's {@code bench.sh} and child JVMs start) and {@link dev.transferengine.bench.BenchFailure},
 * the failure every part of the bench throws and the entry point prints as exit status 1. The rest is split by
 * role ({@code docs/benchmarks.md}, "Package layout"): {@code cli} (subcommands and their options), {@code cases}
 * (what is measured and how it is driven), {@code report} (tables, JSON, progress), {@code baseline} (the native C
 * baseline), {@code process} (more than one process) and {@code jmh} (the JMH micro-benchmarks).
 */
package dev.transferengine.bench;
