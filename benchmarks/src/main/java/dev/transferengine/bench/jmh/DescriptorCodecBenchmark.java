package dev.transferengine.bench.jmh;

import dev.transferengine.api.DomainAddress;
import dev.transferengine.api.RemoteRegion;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.ArrayList;
import java.util.List;

/**
 * A region descriptor's trip between machines: {@link RemoteRegion#encode}/{@link RemoteRegion#decode} (the
 * binary wire form) and {@link RemoteRegion#toHex}/{@link RemoteRegion#fromHex} (what transfer-bench and the
 * examples print and paste). Not on the data path, but done per peer and per region at connection time, and
 * in some applications per request (KV-cache descriptors). Addresses of {@code addressBytes} each, as a
 * provider would give them (tcp's sockaddr_in: 16, EFA: 32, shm: a name of about 24).
 */
@State(Scope.Thread)
public class DescriptorCodecBenchmark extends AbstractEngineBenchmark {
    @Param({"1", "4"})
    int nics;

    @Param({"16", "32"})
    int addressBytes;

    private RemoteRegion region;
    private byte[] encoded;
    private String hex;

    @Setup(Level.Trial)
    public void setUp() {
        List<RemoteRegion.NicKey> keys = new ArrayList<>();
        for (int i = 0; i < nics; i++) {
            byte[] address = new byte[addressBytes];
            for (int b = 0; b < address.length; b++) {
                address[b] = (byte) (31 * i + b);
            }
            keys.add(new RemoteRegion.NicKey(DomainAddress.of(address), 0x1234_5678L + i, 0x7f00_0000_0000L));
        }
        region = new RemoteRegion(0x7f00_0000_0000L, 1L << 30, keys);
        encoded = region.encode();
        hex = region.toHex();
        if (!RemoteRegion.fromHex(hex).equals(region) || !RemoteRegion.decode(encoded).equals(region)) {
            throw new IllegalStateException("descriptor does not survive its own encoding");
        }
    }

    @Benchmark
    public byte[] encode() {
        return region.encode();
    }

    @Benchmark
    public RemoteRegion decode() {
        return RemoteRegion.decode(encoded);
    }

    @Benchmark
    public String toHex() {
        return region.toHex();
    }

    @Benchmark
    public RemoteRegion fromHex() {
        return RemoteRegion.fromHex(hex);
    }
}
