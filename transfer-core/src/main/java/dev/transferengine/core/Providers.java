package dev.transferengine.core;

import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.spi.Availability;
import dev.transferengine.spi.TransportProvider;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;

/** Finds a {@link TransportProvider} by name or alias with {@link ServiceLoader}. */
final class Providers {
    private Providers() {
    }

    /** A provider and the options its alias implies. */
    record Selected(TransportProvider provider, Map<String, String> options) {
    }

    static Selected select(String name, Map<String, String> userOptions) {
        String wanted = name.toLowerCase(Locale.ROOT);
        List<String> known = new ArrayList<>();
        for (TransportProvider p : load()) {
            known.add(p.name() + (p.aliases().isEmpty() ? "" : " " + p.aliases()));
            boolean byName = p.name().equalsIgnoreCase(wanted);
            if (!byName && !p.aliases().contains(wanted)) {
                continue;
            }
            Availability a = p.availability();
            if (!a.available()) {
                throw new ProviderUnavailableException("provider '" + name + "' cannot run here: " + a.reason(),
                        a.cause());
            }
            Map<String, String> merged = new HashMap<>(byName ? Map.of() : p.aliasOptions(wanted));
            merged.putAll(userOptions);
            return new Selected(p, Map.copyOf(merged));
        }
        throw new ProviderUnavailableException("no provider named '" + name + "' on the class path; found: " + known
                + (wanted.equals("verbs") || wanted.equals("libfabric") || wanted.equals("tcp") || wanted.equals("shm")
                || wanted.equals("efa") ? " (add the transfer-" + (wanted.equals("verbs") ? "verbs" : "efa")
                + " module)" : ""), null);
    }

    private static List<TransportProvider> load() {
        List<TransportProvider> out = new ArrayList<>();
        ServiceLoader.load(TransportProvider.class, Providers.class.getClassLoader()).forEach(out::add);
        if (out.isEmpty()) {
            ServiceLoader.load(TransportProvider.class).forEach(out::add);
        }
        return out;
    }
}
