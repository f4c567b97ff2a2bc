package dev.transferengine.spi;

/**
 * Whether a provider can run here, and if not, why (Netty's {@code isAvailable()/unavailabilityCause()}).
 *
 * @param available whether the provider can open a fabric
 * @param reason    a sentence a user can act on when not available ("libfabric.so.1 not found: install
 *                  libfabric1 or set -Dte.libfabric.path"); null when available
 * @param cause     the underlying exception, if any
 */
public record Availability(boolean available, String reason, Throwable cause) {
    private static final Availability AVAILABLE = new Availability(true, null, null);

    public static Availability yes() {
        return AVAILABLE;
    }

    public static Availability no(String reason, Throwable cause) {
        return new Availability(false, reason, cause);
    }
}
