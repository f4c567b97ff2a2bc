package dev.transferengine.verbs.internal;

import dev.transferengine.api.ErrorCategory;
import dev.transferengine.api.TransferException;
import dev.transferengine.verbs.internal.DeviceContext.DeviceAttributes;
import dev.transferengine.verbs.internal.DeviceContext.GidEntry;
import dev.transferengine.verbs.internal.DeviceContext.PortAttributes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Finds the active (device, port) pairs the options allow and what each one offers. Stateless. */
final class PortDiscovery {
    private static final Pattern RATE = Pattern.compile("^\\s*([0-9.]+)\\s*Gb/sec");

    /** One usable port with the GID chosen for it. */
    record VerbsPort(DeviceList.Device device, int port, GidEntry gid, int linkLayer, int activeMtu, int lid,
                     long maxMessageBytes, long linkSpeedBitsPerSec, DeviceAttributes limits) {
        String name() {
            return port == 1 ? device.name() : device.name() + ":" + port;
        }

        String description() {
            return String.format("%s port %d, %s, GID[%d] %s (%s), MTU %d", device.name(), port,
                    linkLayer == Ibv.IBV_LINK_LAYER_ETHERNET ? "RoCE" : "InfiniBand", gid.index(),
                    VerbsAddress.gidText(gid.gid()), gidTypeName(gid.type()), Ibv.mtuBytes(activeMtu));
        }
    }

    private PortDiscovery() {
    }

    static List<VerbsPort> discover(DeviceList devices, VerbsSettings options) {
        List<VerbsPort> ports = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (DeviceList.Device d : devices.devices()) {
            if (options.device() != null && !options.device().equals(d.name())) {
                continue;
            }
            try (DeviceContext ctx = DeviceContext.open(d)) {
                DeviceAttributes limits = ctx.queryDevice();
                for (int p = 1; p <= limits.physicalPorts(); p++) {
                    if (options.port() != 0 && options.port() != p) {
                        continue;
                    }
                    PortAttributes pa = ctx.queryPort(p);
                    if (pa.state() != Ibv.IBV_PORT_ACTIVE) {
                        skipped.add(d.name() + " port " + p + " is not active (state " + pa.state() + ")");
                        continue;
                    }
                    GidEntry gid = GidSelector.select(ctx, p, pa.linkLayer(), pa.gidTableLength(), options.gidIndex());
                    ports.add(new VerbsPort(d, p, gid, pa.linkLayer(), pa.activeMtu(), pa.lid(),
                            pa.maxMessageBytes(), linkSpeed(d.ibdevPath(), p), limits));
                    if (options.port() == 0) {
                        break; // first active port only, unless a port was asked for
                    }
                }
            }
        }
        if (ports.isEmpty()) {
            String filter = options.device() == null ? "" : " named " + options.device();
            throw new TransferException(ErrorCategory.UNAVAILABLE, "verbs: no active RDMA port on any device" + filter
                    + (options.port() != 0 ? " (port " + options.port() + ")" : "")
                    + (skipped.isEmpty() ? "" : ": " + String.join("; ", skipped)));
        }
        return List.copyOf(ports);
    }

    /** sysfs {@code <ibdev>/ports/<port>/rate}, e.g. "400 Gb/sec (4X NDR)"; 0 when unreadable. */
    static long linkSpeed(String ibdevPath, int port) {
        try {
            String rate = Files.readString(Path.of(ibdevPath, "ports", Integer.toString(port), "rate"));
            return parseRate(rate);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    static long parseRate(String rate) {
        Matcher m = RATE.matcher(rate);
        return m.find() ? (long) (Double.parseDouble(m.group(1)) * 1e9) : 0;
    }

    static String gidTypeName(int type) {
        return switch (type) {
            case Ibv.IBV_GID_TYPE_IB -> "IB";
            case Ibv.IBV_GID_TYPE_ROCE_V1 -> "RoCE v1";
            case Ibv.IBV_GID_TYPE_ROCE_V2 -> "RoCE v2";
            default -> "type " + type;
        };
    }
}
