package dev.transferengine.api.topology;

import dev.transferengine.api.GroupSpec;

/**
 * An engine group a {@link GroupPlanner} made, with the topology group it came from.
 *
 * @param source the topology group (GPU, NICs, node)
 * @param spec   the engine group: its domains, CUDA ordinal and worker CPU
 */
public record PlannedGroup(TopologyGroup source, GroupSpec spec) {
}
