package dev.transferengine.api.topology;

import java.util.List;

/**
 * A NUMA node and its CPUs.
 *
 * @param id    the node number ({@code /sys/devices/system/node/node<id>})
 * @param cpus  its logical CPUs, ascending ({@code cpulist})
 * @param cores one logical CPU per physical core, the lowest of its hyperthread siblings
 *              ({@code cpu<N>/topology/thread_siblings_list}; every CPU counts as a core where that file is
 *              missing), ascending
 */
public record NumaNode(int id, List<Integer> cpus, List<Integer> cores) {
    public NumaNode {
        cpus = List.copyOf(cpus);
        cores = List.copyOf(cores);
    }
}
