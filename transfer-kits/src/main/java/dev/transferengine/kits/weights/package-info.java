/**
 * RL weight push: {@link dev.transferengine.kits.weights.WeightPlanner} computes a static
 * {@link dev.transferengine.kits.weights.WeightSchedule} once from parameter metadata and the training and inference
 * shardings; every training rank's {@link dev.transferengine.kits.weights.WeightPusher} then writes its slices
 * straight into the inference ranks' buffers each step, behind a preparation stage and under a staging watermark;
 * every inference rank's {@link dev.transferengine.kits.weights.WeightReceiver} learns the step landed by counting
 * imms. See {@code docs/workloads.md}, "RL weight push".
 */
package dev.transferengine.kits.weights;
