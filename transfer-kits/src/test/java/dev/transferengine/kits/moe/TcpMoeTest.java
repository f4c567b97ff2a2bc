package dev.transferengine.kits.moe;

import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.BeforeAll;

/** MoE dispatch/combine on libfabric tcp;ofi_rxm over 127.0.0.1. */
class TcpMoeTest extends MoeContract {
    @BeforeAll
    static void libfabricPresent() {
        assumeAvailable("tcp");
    }

    @Override
    TransferEngine.Builder builder(int nics) {
        return TransferEngine.builder().provider("tcp").groups(1, nics);
    }
}
