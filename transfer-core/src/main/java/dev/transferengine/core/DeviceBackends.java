package dev.transferengine.core;

import dev.transferengine.api.GroupSpec;
import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.spi.DeviceBackend;
import dev.transferengine.spi.EngineConfig;

import java.util.ServiceLoader;

/**
 * The engine's device (GPU) backend: the one the builder was given, else the first one {@link ServiceLoader}
 * finds ({@code transfer-cuda}). Looked up only when a group names a CUDA device; a missing or unavailable
 * backend is not an error until device memory is registered, and then the error says why.
 */
final class DeviceBackends {
    private final DeviceBackend backend;
    private final String missingReason;

    private DeviceBackends(DeviceBackend backend, String missingReason) {
        this.backend = backend;
        this.missingReason = missingReason;
    }

    static DeviceBackends forGroups(EngineConfig config) {
        boolean wanted = config.groups().stream().mapToInt(GroupSpec::cudaDevice).anyMatch(d -> d >= 0);
        if (config.deviceBackend() != null) {
            return new DeviceBackends(config.deviceBackend(), null);
        }
        if (!wanted) {
            return new DeviceBackends(null, "no group of this engine names a CUDA device (GroupSpec.withCudaDevice)");
        }
        for (DeviceBackend b : ServiceLoader.load(DeviceBackend.class, DeviceBackends.class.getClassLoader())) {
            return new DeviceBackends(b, null);
        }
        return new DeviceBackends(null, "no device backend found: add dev.transferengine:transfer-cuda to the class"
                + " or module path");
    }

    boolean isAvailable() {
        return backend != null && backend.availability().available();
    }

    DeviceBackend backend() {
        return backend;
    }

    /** The backend, or a {@link ProviderUnavailableException} saying why there is none that can run. */
    DeviceBackend require() {
        if (backend == null) {
            throw new ProviderUnavailableException("device memory cannot be registered: " + missingReason, null);
        }
        var availability = backend.availability();
        if (!availability.available()) {
            throw new ProviderUnavailableException("device memory cannot be registered: the " + backend.name()
                    + " backend is unavailable: " + availability.reason(), availability.cause());
        }
        return backend;
    }
}
