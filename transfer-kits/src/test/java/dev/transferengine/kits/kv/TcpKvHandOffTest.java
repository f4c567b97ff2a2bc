package dev.transferengine.kits.kv;

import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.BeforeAll;

/** The KV hand-off suite on libfabric's tcp;ofi_rxm pinned to 127.0.0.1, two NICs per rank. */
class TcpKvHandOffTest extends KvHandOffSuite {
    @BeforeAll
    static void libfabricPresent() {
        KvProcesses.assumeLibfabric();
    }

    @Override
    protected TransferEngine.Builder engine(String name) {
        return TransferEngine.builder().provider("tcp").groups(1, 2);
    }
}
