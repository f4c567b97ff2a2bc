package dev.transferengine.efa;

import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.efa.internal.LibfabricFabric;
import dev.transferengine.efa.internal.LibfabricLibrary;
import dev.transferengine.efa.internal.LibfabricSettings;
import dev.transferengine.spi.Availability;
import dev.transferengine.spi.ProviderFabric;
import dev.transferengine.spi.TransportProvider;

import java.util.Map;
import java.util.Set;

/**
 * The libfabric transport: RDM endpoints with RMA writes carrying remote CQ data, over any libfabric
 * provider that offers them — EFA in production, {@code tcp;ofi_rxm} and {@code shm} anywhere.
 *
 * <p>Name {@code "libfabric"}; aliases {@code "efa"}, {@code "tcp"} (tcp;ofi_rxm pinned to 127.0.0.1) and
 * {@code "shm"}. Options: {@link LibfabricOptions}. A stateless factory, safe to use from any thread; the
 * availability probe (loading the library) runs once.
 */
public final class LibfabricProvider implements TransportProvider {
    public static final String NAME = "libfabric";

    private static volatile Availability availability;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Set<String> aliases() {
        return Set.of("efa", "tcp", "shm");
    }

    @Override
    public Map<String, String> aliasOptions(String alias) {
        return switch (alias) {
            case "efa" -> Map.of(LibfabricOptions.PROVIDER, "efa");
            case "tcp" -> Map.of(LibfabricOptions.PROVIDER, "tcp;ofi_rxm", LibfabricOptions.NODE, "127.0.0.1");
            case "shm" -> Map.of(LibfabricOptions.PROVIDER, "shm");
            default -> Map.of();
        };
    }

    /**
     * Whether libfabric can be loaded here (with the default search, or the library named by system property
     * {@code te.libfabric.library} / env {@code TE_LIBFABRIC_LIBRARY}). The probe does not keep the library loaded
     * unless an engine already did, so an engine's own {@code libfabric.library} option still decides which file
     * the process loads.
     */
    @Override
    public Availability availability() {
        Availability a = availability;
        if (a == null) {
            a = probe();
            availability = a;
        }
        return a;
    }

    private static Availability probe() {
        try {
            LibfabricLibrary.probe(LibfabricSettings.from(Map.of()).libraryPath());
            return Availability.yes();
        } catch (ProviderUnavailableException e) {
            return Availability.no(e.getMessage(), e);
        } catch (RuntimeException | LinkageError e) {
            return Availability.no("libfabric could not be loaded: " + e, e);
        }
    }

    @Override
    public ProviderFabric open(Map<String, String> options, int domainsWanted) {
        LibfabricSettings settings = LibfabricSettings.from(options);
        return new LibfabricFabric(LibfabricLibrary.load(settings.libraryPath()), settings);
    }
}
