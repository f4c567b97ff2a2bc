package dev.transferengine.kits.weights;

import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.BeforeAll;

/** The weight push on libfabric shm. */
class ShmWeightPushTest extends WeightPushContract {
    @BeforeAll
    static void libfabricPresent() {
        assumeAvailable("shm");
    }

    @Override
    TransferEngine.Builder builder(int nics) {
        return TransferEngine.builder().provider("shm").groups(1, nics);
    }
}
