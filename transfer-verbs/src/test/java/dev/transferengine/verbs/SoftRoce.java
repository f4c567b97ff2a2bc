package dev.transferengine.verbs;

import dev.transferengine.spi.Availability;
import org.junit.jupiter.api.Assumptions;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Gate for tests that need an RDMA device. Inside the Soft-RoCE guest (system property {@code te.softroce},
 * set by the pom's {@code softroce} profile) a missing device fails the test; anywhere else it skips it with
 * the provider's reason.
 */
public final class SoftRoce {
    /** The JUnit tag of tests that need a device; the softroce profile runs exactly these in the guest. */
    public static final String TAG = "softroce";

    private SoftRoce() {
    }

    public static boolean insideGuest() {
        return Boolean.getBoolean("te.softroce");
    }

    /** Returns normally when the verbs provider can run here; otherwise skips (host) or fails (guest). */
    public static void requireDevice() {
        Availability a = new VerbsProvider().availability();
        if (a.available()) {
            return;
        }
        String why = "verbs provider unavailable: " + a.reason();
        if (insideGuest()) {
            fail("inside the Soft-RoCE guest, but " + why, a.cause());
        }
        Assumptions.abort(why + " (run with -Psoftroce to test against Soft-RoCE in a QEMU guest)");
    }
}
