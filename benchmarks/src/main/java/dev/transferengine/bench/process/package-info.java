/**
 * The bench across processes: bench subcommands in child JVMs driven by lines over stdin and stdout
 * ({@link dev.transferengine.bench.process.BenchChild}: {@code moe}, {@code weights} and {@code kv} with
 * {@code --processes}, {@code gpu --peer-process}), and the session of {@code server} and {@code client}: its
 * messages ({@link dev.transferengine.bench.process.RowAnnouncement},
 * {@link dev.transferengine.bench.process.RowResult}), their receive handler
 * ({@link dev.transferengine.bench.process.MessageInbox}), the bytes the client writes
 * ({@link dev.transferengine.bench.process.RowPattern}) and what both sides share
 * ({@link dev.transferengine.bench.process.TwoProcessModes}).
 */
package dev.transferengine.bench.process;
