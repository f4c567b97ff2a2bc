package dev.transferengine.kits.weights;

import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.BeforeAll;

/** The weight push on libfabric tcp;ofi_rxm over 127.0.0.1. */
class TcpWeightPushTest extends WeightPushContract {
    @BeforeAll
    static void libfabricPresent() {
        assumeAvailable("tcp");
    }

    @Override
    TransferEngine.Builder builder(int nics) {
        return TransferEngine.builder().provider("tcp").groups(1, nics);
    }
}
