package dev.transferengine.efa;

import dev.transferengine.spi.CompletionSink;
import dev.transferengine.api.TransferException;
import dev.transferengine.spi.ProviderDomain;

import java.util.Map;

/**
 * A standalone measurement, not a test: the provider SPI alone (no engine), one thread posting single writes
 * with imm from domain A to domain B in this process and polling both CQs, a fixed window of writes in flight.
 * A write counts when B has seen its imm. Prints MiB/s and writes/s per size; the numbers for docs/libfabric.md.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp "$(cat cp.txt):transfer-efa/target/classes:transfer-efa/target/test-classes" \
 *     dev.transferengine.efa.ProviderWriteRate tcp|shm [seconds per size]
 * </pre>
 */
public final class ProviderWriteRate {
    private ProviderWriteRate() {
    }

    public static void main(String[] args) {
        TestProviders p = TestProviders.valueOf(args[0].toUpperCase(java.util.Locale.ROOT));
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 3;
        long[] sizes = {64, 64 << 10, 1 << 20, 16 << 20};
        try (DomainPair d = new DomainPair(Map.copyOf(p.options), 16 << 20)) {
            System.out.printf("%s: provider SPI only, one thread, window 16 (64 B: 64), imm per write%n", p);
            for (long size : sizes) {
                int window = size == 64 ? 64 : 16;
                measure(d, size, window, 0.3); // warm-up
                double[] r = measure(d, size, window, seconds);
                System.out.printf("%10d B  %10.1f MiB/s  %12.0f writes/s%n", size, r[0], r[1]);
            }
        }
    }

    /** Returns {MiB/s, writes/s}. */
    private static double[] measure(DomainPair d, long size, int window, double seconds) {
        Counter a = new Counter();
        Counter b = new Counter();
        long posted = 0;
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            while (posted - b.imms < window) {
                int rc = d.a.postWrite(d.peerOfA, d.memA, d.memA.address(), size, d.memB.remoteBase(),
                        d.memB.remoteKey(), true, 1, posted);
                if (rc != ProviderDomain.POSTED) {
                    break;
                }
                posted++;
            }
            d.a.poll(a, 32);
            d.b.poll(b, 32);
        }
        while (b.imms < posted || a.done < posted) {
            d.a.poll(a, 32);
            d.b.poll(b, 32);
        }
        double secs = (System.nanoTime() - start) / 1e9;
        return new double[] {posted * (double) size / secs / (1 << 20), posted / secs};
    }

    private static final class Counter implements CompletionSink {
        long done;
        long imms;

        @Override
        public void onComplete(long context) {
            done++;
        }

        @Override
        public void onReceive(long context, long lengthBytes) {
        }

        @Override
        public void onError(long context, TransferException error) {
            throw error;
        }

        @Override
        public void onImm(int imm) {
            imms++;
        }
    }
}
