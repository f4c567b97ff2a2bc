/**
 * MoE dispatch/combine with a host proxy per rank ({@link dev.transferengine.kits.moe.MoeRank}): per-expert counts
 * are exchanged first, each source gets a contiguous range in each destination's receive buffer, dispatch is at most
 * two writes per peer and combine one, and every phase completes by counting its own imm (route, dispatch, combine,
 * barrier). See {@code docs/workloads.md}, "MoE dispatch/combine".
 */
package dev.transferengine.kits.moe;
