package dev.transferengine.spi;

import dev.transferengine.api.TransferEngine;

/** Creates engines; transfer-core provides the implementation through {@link java.util.ServiceLoader}. */
public interface EngineFactory {
    TransferEngine create(EngineConfig config);
}
