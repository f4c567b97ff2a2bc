package dev.transferengine.api;

import java.util.List;

/**
 * One worker group: normally one GPU with its NICs.
 *
 * @param nics        number of NICs (domains) the group stripes over (>= 1)
 * @param domainNames explicit provider domain names (e.g. {@code "rxe0"}, {@code "lo3"}); empty means the
 *                    engine takes the next {@code nics} domains the provider lists
 * @param cudaDevice  the CUDA ordinal whose memory this group owns, or -1 for a host-only group
 * @param pinCpu      CPU to pin the worker thread to, or -1 for no pinning
 */
public record GroupSpec(int nics, List<String> domainNames, int cudaDevice, int pinCpu) {
    public GroupSpec {
        if (nics < 1) {
            throw new InvalidRequestException("a group needs at least one NIC, got " + nics);
        }
        domainNames = List.copyOf(domainNames == null ? List.of() : domainNames);
        if (!domainNames.isEmpty() && domainNames.size() != nics) {
            throw new InvalidRequestException("group names " + domainNames.size() + " domains but has " + nics + " NICs");
        }
        if (cudaDevice < -1 || pinCpu < -1) {
            throw new InvalidRequestException("cudaDevice and pinCpu must be >= -1");
        }
    }

    /** A host group with {@code nics} NICs, no pinning. */
    public static GroupSpec ofNics(int nics) {
        return new GroupSpec(nics, List.of(), -1, -1);
    }

    /** A group over the named domains. */
    public static GroupSpec ofDomains(String... names) {
        return new GroupSpec(names.length, List.of(names), -1, -1);
    }

    public GroupSpec withCudaDevice(int ordinal) {
        return new GroupSpec(nics, domainNames, ordinal, pinCpu);
    }

    public GroupSpec withPinnedCpu(int cpu) {
        return new GroupSpec(nics, domainNames, cudaDevice, cpu);
    }
}
