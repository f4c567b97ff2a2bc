package dev.transferengine.core;

import dev.transferengine.api.TransferEngine;
import dev.transferengine.spi.EngineConfig;
import dev.transferengine.spi.EngineFactory;

/** The {@link EngineFactory} registered with {@link java.util.ServiceLoader}. */
public final class DefaultEngineFactory implements EngineFactory {
    @Override
    public TransferEngine create(EngineConfig config) {
        return new DefaultTransferEngine(config);
    }
}
