package dev.transferengine.verbs;

import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.spi.Availability;
import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.spi.TransportProvider;
import dev.transferengine.verbs.internal.DeviceList;
import dev.transferengine.verbs.internal.NativeErrors;
import dev.transferengine.verbs.internal.VerbsFabric;
import dev.transferengine.verbs.internal.VerbsLibrary;
import dev.transferengine.verbs.internal.VerbsSettings;

import java.util.Map;

/**
 * The libibverbs provider ({@code "verbs"}): RC queue pairs on ConnectX-class NICs and Soft-RoCE, bound with
 * FFM. Found with {@link java.util.ServiceLoader}; stateless apart from the cached availability probe, and
 * thread-safe.
 *
 * <p>Options ({@code verbs.*}, keys in {@link VerbsOptions}, parsed by the unexported
 * {@code dev.transferengine.verbs.internal.VerbsSettings}): {@code device}, {@code port}, {@code gidIndex},
 * {@code rmaQpsPerPeer}, {@code sendQueueDepth}, {@code completionQueueDepth}, {@code messageReceiveDepth},
 * {@code immReceiveDepth}, {@code signalInterval}, {@code handshakeTimeoutMillis},
 * {@code handshakeRetryMillis}, {@code peerTimeoutMillis}, {@code ackTimeout}, {@code retryCount}, {@code relaxedOrdering}.
 */
public final class VerbsProvider implements TransportProvider {
    /** The provider name users pass to the builder. */
    public static final String NAME = "verbs";

    /** The availability probe runs once per JVM: it loads libibverbs and lists the devices. */
    private static final class Probe {
        static final Availability RESULT = probe();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Availability availability() {
        return Probe.RESULT;
    }

    @Override
    public ProviderFabric open(Map<String, String> options, int domainsWanted) {
        Availability a = availability();
        if (!a.available()) {
            throw new ProviderUnavailableException("verbs provider unavailable: " + a.reason(), a.cause());
        }
        return VerbsFabric.open(VerbsSettings.from(options), domainsWanted);
    }

    private static Availability probe() {
        Throwable loadFailure = VerbsLibrary.loadFailure();
        if (loadFailure != null) {
            return Availability.no(VerbsLibrary.SONAME + " could not be loaded (" + loadFailure.getMessage()
                    + "): install libibverbs1 and ibverbs-providers (rdma-core)", loadFailure);
        }
        try (DeviceList devices = DeviceList.open()) {
            if (devices.errno() == NativeErrors.ENOSYS) {
                return Availability.no("no RDMA devices: this kernel has no RDMA support "
                        + "(ibv_get_device_list: ENOSYS, no /sys/class/infiniband_verbs)", null);
            }
            if (devices.errno() != 0) {
                return Availability.no("ibv_get_device_list failed: " + VerbsLibrary.strerror(devices.errno()), null);
            }
            if (devices.devices().isEmpty()) {
                return Availability.no("no RDMA devices found (ibv_get_device_list returned none; "
                        + "is the NIC's kernel driver, or rdma_rxe for Soft-RoCE, loaded?)", null);
            }
            return Availability.yes();
        } catch (RuntimeException e) {
            return Availability.no("listing RDMA devices failed: " + e.getMessage(), e);
        }
    }
}
