package dev.transferengine.spi;

import dev.transferengine.api.InvalidRequestException;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads one provider's options from the map given to {@link TransportProvider#open}: a key's value is taken from
 * the map, else from the system property {@code te.<key>}, else the getter's default. Values are trimmed; a present
 * but malformed or out-of-range value raises {@link InvalidRequestException} naming the key, the value and what is
 * allowed (a blank value is malformed for the typed getters, never silently the default).
 *
 * <p>The map carries everyone's options (engine-level keys such as {@code threadingMode}, other providers' keys):
 * the reader judges only keys that start with its own {@code <provider>.} prefix, and rejects those it does not
 * know, listing the known ones, because a misspelt option that silently does nothing makes a run prove nothing.
 * System properties are not checked for unknown keys (the JVM's property table is everyone's).
 *
 * <p>Immutable after construction; reads the system properties at each call. Thread-safe.
 */
public final class ProviderOptions {
    private final String provider;
    /** The keys this reader judges start with it; null for the engine's reader ({@link #forEngine}). */
    private final String prefix;
    private final Map<String, String> options;
    private final Set<String> knownKeys;

    /**
     * @param provider  the provider's option prefix without the dot, e.g. {@code "verbs"}
     * @param options   the options map given to the provider (null reads as empty)
     * @param knownKeys every key this provider reads, each starting with {@code provider + "."}
     * @throws InvalidRequestException  when the map holds a {@code <provider>.*} key outside {@code knownKeys}
     * @throws IllegalArgumentException when a known key lacks the prefix (a bug in the provider)
     */
    public ProviderOptions(String provider, Map<String, String> options, Set<String> knownKeys) {
        this(provider, provider + ".", options, knownKeys);
    }

    /**
     * The reader of the engine's own options: keys without a dot ({@code threadingMode}, {@code copyStreams}, ...)
     * and the {@code staging.*} keys. The same rules as a provider's: an unknown key of that kind is rejected,
     * listing the known ones.
     */
    public static ProviderOptions forEngine(Map<String, String> options, Set<String> knownKeys) {
        return new ProviderOptions("engine", null, options, knownKeys);
    }

    /** @param prefix the keys this reader judges; null: the engine's (no dot, or {@code staging.}) */
    private ProviderOptions(String provider, String prefix, Map<String, String> options, Set<String> knownKeys) {
        this.provider = provider;
        this.prefix = prefix;
        this.options = options == null ? Map.of() : options;
        this.knownKeys = new TreeSet<>(knownKeys);
        for (String key : this.knownKeys) {
            if (!judges(key)) {
                throw new IllegalArgumentException("option key " + key + " is not a " + provider + " key");
            }
        }
        for (String key : this.options.keySet()) {
            if (key != null && judges(key) && !this.knownKeys.contains(key)) {
                throw new InvalidRequestException("unknown " + provider + " option '" + key + "'; known: "
                        + this.knownKeys);
            }
        }
    }

    private boolean judges(String key) {
        return prefix != null ? key.startsWith(prefix) : key.indexOf('.') < 0 || key.startsWith("staging.");
    }

    /** The provider prefix this reader judges. */
    public String provider() {
        return provider;
    }

    /** The trimmed value of {@code key} from the map, else from {@code te.<key>}; null when neither has one. */
    public String value(String key) {
        requireKnown(key);
        String v = options.get(key);
        if (v == null) {
            v = System.getProperty("te." + key);
        }
        return v == null ? null : v.trim();
    }

    /** {@link #value} or {@code fallback} when absent (a blank value is returned as it is). */
    public String string(String key, String fallback) {
        String v = value(key);
        return v == null ? fallback : v;
    }

    /** {@code true} or {@code false} (any case), or {@code fallback} when absent. */
    public boolean bool(String key, boolean fallback) {
        String v = value(key);
        if (v == null) {
            return fallback;
        }
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        throw new InvalidRequestException(key + " must be true or false, got '" + v + "'");
    }

    /** A decimal integer in {@code [min, max]}, or {@code fallback} when absent (not range-checked). */
    public long longValue(String key, long fallback, long min, long max) {
        String v = value(key);
        if (v == null) {
            return fallback;
        }
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new InvalidRequestException(key + " must be an integer " + range(min, max) + ", got '" + v + "'");
        }
        checkRange(key, n, min, max);
        return n;
    }

    /** A decimal integer in {@code [min, max]}, or {@code fallback} when absent (not range-checked). */
    public int intValue(String key, int fallback, int min, int max) {
        return (int) longValue(key, fallback, min, max);
    }

    /**
     * One of {@code choices} (compared ignoring case; returned as spelt in {@code choices}), or {@code fallback}
     * when absent.
     */
    public String choice(String key, String fallback, String... choices) {
        String v = value(key);
        if (v == null) {
            return fallback;
        }
        for (String c : choices) {
            if (c.equalsIgnoreCase(v)) {
                return c;
            }
        }
        throw new InvalidRequestException(key + " must be one of " + Arrays.toString(choices) + ", got '" + v + "'");
    }

    /**
     * The one range check behind every getter, for values that come from elsewhere (a record's constructor).
     *
     * @throws InvalidRequestException naming {@code key}, {@code value} and the range when it lies outside it
     */
    public static void checkRange(String key, long value, long min, long max) {
        if (value < min || value > max) {
            throw new InvalidRequestException(key + " must be " + range(min, max) + ", got " + value);
        }
    }

    private static String range(long min, long max) {
        if (max == Long.MAX_VALUE) {
            return ">= " + min;
        }
        if (min == Long.MIN_VALUE) {
            return "<= " + max;
        }
        return "in " + min + ".." + max;
    }

    /** Reading a key the provider did not declare is a bug: its misspellings would be rejected as unknown. */
    private void requireKnown(String key) {
        if (!knownKeys.contains(key)) {
            throw new IllegalArgumentException(key + " is not among the declared " + provider + " options "
                    + knownKeys);
        }
    }

    @Override
    public String toString() {
        return provider + " options " + knownKeys;
    }
}
