/**
 * Workload kits on the public API: {@code kv} (KV-cache hand-off between prefill and decode),
 * {@code weights} (RL weight push), {@code moe} (MoE dispatch/combine). See {@code docs/workloads.md}.
 */
package dev.transferengine.kits;
