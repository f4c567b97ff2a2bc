/**
 * The native C baseline, {@code benchmarks/native/fi_write_bench.c} straight over libfabric: built with gcc (or a
 * prebuilt binary) and run as a child process, one write size per run
 * ({@link dev.transferengine.bench.baseline.NativeBaseline}); used by {@code compare} and {@code gpu}.
 */
package dev.transferengine.bench.baseline;
