package dev.transferengine.kits.moe;

import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.BeforeAll;

/** MoE dispatch/combine on libfabric shm. */
class ShmMoeTest extends MoeContract {
    @BeforeAll
    static void libfabricPresent() {
        assumeAvailable("shm");
    }

    @Override
    TransferEngine.Builder builder(int nics) {
        return TransferEngine.builder().provider("shm").groups(1, nics);
    }
}
