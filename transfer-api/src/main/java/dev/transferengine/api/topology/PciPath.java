package dev.transferengine.api.topology;

import dev.transferengine.api.InvalidRequestException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Where a PCI device sits in the PCIe tree: its address ({@code "0000:1b:00.0"}) and the bridges above it, root
 * port first, as the components of its directory under {@code /sys/devices} name them
 * ({@code /sys/devices/pci0000:15/0000:15:01.0/0000:16:00.0/0000:17:01.0/0000:1b:00.0}).
 *
 * @param address the device's PCI address, lower case
 * @param bridges the bridges from the root port down to the device's parent; empty for a device on a root bus
 */
public record PciPath(String address, List<String> bridges) {
    private static final Pattern ADDRESS = Pattern.compile("[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]");

    public PciPath {
        if (address == null || !isAddress(address)) {
            throw new InvalidRequestException("not a PCI address: '" + address + "'");
        }
        bridges = List.copyOf(bridges);
        for (String b : bridges) {
            if (!isAddress(b)) {
                throw new InvalidRequestException("not a PCI address: '" + b + "'");
            }
        }
    }

    /** Whether {@code name} is a PCI address in sysfs form ({@code domain:bus:device.function}, lower-case hex). */
    public static boolean isAddress(String name) {
        return ADDRESS.matcher(name).matches();
    }

    /**
     * The path of the PCI device whose real sysfs directory is {@code deviceDirectory}: the trailing run of
     * components that are PCI addresses.
     *
     * @throws InvalidRequestException when the last component is not a PCI address
     */
    public static PciPath of(Path deviceDirectory) {
        List<String> names = new ArrayList<>();
        for (Path p : deviceDirectory) {
            String name = p.toString();
            if (isAddress(name)) {
                names.add(name);
            } else {
                names.clear();
            }
        }
        if (names.isEmpty()) {
            throw new InvalidRequestException(deviceDirectory + " is not the directory of a PCI device");
        }
        return new PciPath(names.getLast(), names.subList(0, names.size() - 1));
    }

    /**
     * How many bridges, counted from the root port, this device and {@code other} have in common. Two or more
     * means they share a bridge below the root port, i.e. they sit behind the same PCIe switch; one means only
     * the root port; zero means separate root ports.
     */
    public int sharedBridges(PciPath other) {
        int n = 0;
        while (n < bridges.size() && n < other.bridges.size() && bridges.get(n).equals(other.bridges.get(n))) {
            n++;
        }
        return n;
    }

    @Override
    public String toString() {
        return bridges.isEmpty() ? address : String.join(" > ", bridges) + " > " + address;
    }
}
