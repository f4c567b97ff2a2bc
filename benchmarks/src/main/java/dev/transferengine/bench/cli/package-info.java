/**
 * The picocli subcommands of {@code transfer-bench} ({@code local}, {@code compare}, {@code server},
 * {@code client}, {@code gpu}, {@code gpu-target}, {@code stat}, {@code topology}, {@code weights}, {@code moe},
 * {@code kv}) and the options they share: the mixins {@link dev.transferengine.bench.cli.EngineOptions} (how an
 * engine is built) and {@link dev.transferengine.bench.cli.SweepOptions} (what a sweep writes), the names users type
 * ({@link dev.transferengine.bench.cli.ProviderChoice}, {@link dev.transferengine.bench.cli.IdleChoice}) and
 * {@link dev.transferengine.bench.cli.ByteSize}.
 */
package dev.transferengine.bench.cli;
