package dev.transferengine.kits.kv;

import dev.transferengine.api.TransferEngine;
import org.junit.jupiter.api.BeforeAll;

import java.time.Duration;

/** The KV hand-off suite on libfabric's shm. */
class ShmKvHandOffTest extends KvHandOffSuite {
    @BeforeAll
    static void libfabricPresent() {
        KvProcesses.assumeLibfabric();
    }

    @Override
    protected TransferEngine.Builder engine(String name) {
        return TransferEngine.builder().provider("shm").transferTimeout(Duration.ofSeconds(15));
    }
}
