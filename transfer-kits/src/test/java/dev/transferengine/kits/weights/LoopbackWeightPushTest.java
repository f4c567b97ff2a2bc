package dev.transferengine.kits.weights;

import dev.transferengine.api.TransferEngine;

/** The weight push on the loopback provider with reordered delivery (writes land in any order). */
class LoopbackWeightPushTest extends WeightPushContract {
    @Override
    TransferEngine.Builder builder(int nics) {
        return TransferEngine.builder().provider("loopback").providerOption("loopback.reorder", "true")
                .groups(1, nics);
    }
}
