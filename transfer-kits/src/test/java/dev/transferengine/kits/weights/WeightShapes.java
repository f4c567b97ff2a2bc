package dev.transferengine.kits.weights;

import java.util.List;

/** Small models for the tests: every placement pair the planner handles, uneven chunks included. */
final class WeightShapes {
    private WeightShapes() {
    }

    /**
     * Training rows-sharded (FSDP-like) over the source ranks; inference tensor-parallel: column-parallel and
     * row-parallel projections, a replicated norm, an embedding whose row count does not divide by the ranks,
     * a 3-D expert tensor, a parameter replicated on the training side, and one column-sharded on the training side
     * (tensor-parallel training) going to row shards.
     */
    static List<ParameterMeta> mixed() {
        return List.of(
                ParameterMeta.of("embed", DType.BF16, Placement.rows(), Placement.rows(), 101, 48),
                ParameterMeta.of("q_proj", DType.BF16, Placement.rows(), Placement.columns(), 64, 96),
                ParameterMeta.of("o_proj", DType.BF16, Placement.rows(), Placement.rows(), 96, 64),
                ParameterMeta.of("norm", DType.FP32, Placement.rows(), Placement.REPLICATED, 64),
                ParameterMeta.of("experts", DType.FP8, Placement.rows(), Placement.rows(), 6, 16, 40),
                ParameterMeta.of("lm_head", DType.BF16, Placement.REPLICATED, Placement.columns(), 40, 70),
                ParameterMeta.of("tp_trained", DType.FP16, Placement.columns(), Placement.rows(), 30, 50));
    }
}
