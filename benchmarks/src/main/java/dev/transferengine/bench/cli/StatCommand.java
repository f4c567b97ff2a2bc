package dev.transferengine.bench.cli;

import dev.transferengine.bench.BenchFailure;
import dev.transferengine.bench.report.CountersReport;
import dev.transferengine.core.counters.CountersBlock;
import dev.transferengine.core.counters.CountersFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code te stat}: prints the counters of running engines from their counters files (engines built with
 * {@code countersFile(...)}), like Aeron's AeronStat. Arguments are counters files or directories to scan
 * for {@code *.counters}; the default directory is {@value #DEFAULT_DIRECTORY}.
 */
@Command(name = "stat", mixinStandardHelpOptions = true,
        description = "Print the counters of running engines from their counters files.")
public final class StatCommand implements Callable<Integer> {
    static final String DEFAULT_DIRECTORY = "/dev/shm/transferengine";

    @Parameters(arity = "0..*", paramLabel = "PATH",
            description = "Counters files, or directories holding *.counters files (default: " + DEFAULT_DIRECTORY + ").")
    List<Path> paths = new ArrayList<>();

    @Option(names = "--interval", paramLabel = "SECONDS", description = "Print again every SECONDS (0: once).")
    double intervalSeconds;

    @Option(names = "--count", description = "With --interval: how many times to print (0: until interrupted).")
    int count;

    @Override
    public Integer call() throws Exception {
        List<Path> files = files(paths.isEmpty() ? List.of(Path.of(DEFAULT_DIRECTORY)) : paths);
        if (files.isEmpty()) {
            throw new BenchFailure("no counters files found in " + (paths.isEmpty() ? DEFAULT_DIRECTORY : paths)
                    + ": build the engine with countersFile(...) to publish its counters", null);
        }
        for (int round = 0; count <= 0 || round < count; round++) {
            if (round > 0) {
                Thread.sleep((long) (intervalSeconds * 1000));
                System.out.println();
            }
            for (Path file : files) {
                try (CountersFile counters = CountersFile.open(file)) {
                    CountersBlock block = counters.counters();
                    boolean alive = ProcessHandle.of(block.pid()).map(ProcessHandle::isAlive).orElse(false);
                    System.out.printf("%s: engine '%s', provider %s, pid %d%s, started %s%n", file, block.engineName(),
                            block.providerName(), block.pid(), alive ? "" : " (not running)",
                            Instant.ofEpochMilli(block.startMillis()));
                    CountersReport.print(block, System.out);
                }
            }
            if (intervalSeconds <= 0) {
                break;
            }
        }
        return 0;
    }

    private static List<Path> files(List<Path> paths) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    s.filter(f -> f.getFileName().toString().endsWith(".counters")).sorted().forEach(files::add);
                }
            } else if (Files.exists(p)) {
                files.add(p);
            } else {
                throw new BenchFailure("no such counters file or directory: " + p, null);
            }
        }
        return files;
    }
}
