package dev.transferengine.api.topology;

/** The family of an RDMA device, which decides the provider that drives it and its domain name there. */
public enum NicKind {
    /** AWS Elastic Fabric Adapter (driver {@code efa}, devices {@code rdmap*}): libfabric's {@code efa} provider. */
    EFA,
    /** NVIDIA/Mellanox ConnectX (driver {@code mlx5_core}, devices {@code mlx5_*}): the verbs provider. */
    CONNECTX,
    /** Any other RDMA device ({@code rxe0} of Soft-RoCE, {@code irdma}, {@code bnxt_re}): the verbs provider. */
    OTHER
}
