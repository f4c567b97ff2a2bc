package dev.transferengine.efa;

import dev.transferengine.api.InvalidRequestException;
import dev.transferengine.api.ProviderUnavailableException;
import dev.transferengine.api.TransferEngine;
import dev.transferengine.efa.internal.LibfabricLibrary;
import dev.transferengine.efa.internal.LibfabricSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code libfabric.library}, {@code libfabric.hmem} and {@code libfabric.cudaDevices}: parsing and loading. */
class LibfabricLibraryOptionTest {
    private static final String MISSING = "/nonexistent/te-test/libfabric.so.1";

    @Test
    void libraryOptionWinsOverTheOlderPathOptionAndSystemProperties() {
        String saved = System.getProperty("te." + LibfabricOptions.LIBRARY);
        try {
            System.clearProperty("te." + LibfabricOptions.LIBRARY);
            assertEquals("/old/libfabric.so.1",
                    LibfabricSettings.from(Map.of(LibfabricOptions.PATH, "/old/libfabric.so.1")).libraryPath());
            System.setProperty("te." + LibfabricOptions.LIBRARY, "/from/property/libfabric.so.1");
            assertEquals("/opt/libfabric-cuda/lib/libfabric.so.1", LibfabricSettings.from(Map.of(
                    LibfabricOptions.LIBRARY, "/opt/libfabric-cuda/lib/libfabric.so.1",
                    LibfabricOptions.PATH, "/old/libfabric.so.1")).libraryPath());
            assertEquals("/from/property/libfabric.so.1", LibfabricSettings.from(Map.of()).libraryPath());
            assertEquals("/from/property/libfabric.so.1", LibfabricSettings.from(Map.of(LibfabricOptions.LIBRARY, "  "))
                    .libraryPath(), "a blank option falls through to the property");
        } finally {
            restore("te." + LibfabricOptions.LIBRARY, saved);
        }
    }

    @Test
    void hmemAutoAsksOnEfaAndWhenTheEngineHasCudaGroups() {
        assertFalse(settings("shm", "auto", null).askForHmem(), "host-only shm keeps the CMA entry");
        assertFalse(settings("tcp;ofi_rxm", null, null).askForHmem());
        assertTrue(settings("efa", "auto", null).askForHmem());
        assertTrue(settings("shm", "auto", "0").askForHmem(), "a CUDA group makes auto ask for FI_HMEM");
        assertTrue(settings("shm", null, " 1, 0 ,1").askForHmem());
        assertEquals(List.of(1, 0), settings("shm", null, " 1, 0 ,1").cudaDevices());
        assertFalse(settings("shm", null, "-1,-1").askForHmem(), "host groups (-1) do not count");
        assertFalse(settings("shm", null, "").askForHmem());
        assertFalse(settings("efa", "false", "0").askForHmem(), "an explicit false wins");
        assertTrue(settings("tcp;ofi_rxm", "TRUE", null).askForHmem());
        assertThrows(InvalidRequestException.class, () -> settings("shm", "yes", null));
        assertThrows(InvalidRequestException.class, () -> settings("shm", null, "gpu0"));
    }

    @Test
    void aMissingLibraryFileIsUnavailableNamingThePath() {
        ProviderUnavailableException e = assertThrows(ProviderUnavailableException.class,
                () -> LibfabricLibrary.load(MISSING));
        assertTrue(e.getMessage().contains(MISSING) && e.getMessage().contains("does not exist"), e.getMessage());
        e = assertThrows(ProviderUnavailableException.class, () -> LibfabricLibrary.probe(MISSING));
        assertTrue(e.getMessage().contains(MISSING), e.getMessage());
        e = assertThrows(ProviderUnavailableException.class,
                () -> new LibfabricProvider().open(Map.of(LibfabricOptions.PROVIDER, "shm",
                        LibfabricOptions.LIBRARY, MISSING), 1));
        assertTrue(e.getMessage().contains(MISSING), e.getMessage());
    }

    @Test
    void anEngineNamingAMissingLibraryFailsToBuildWithTheCause() {
        TestProviders.assumeLibfabric();
        ProviderUnavailableException e = assertThrows(ProviderUnavailableException.class,
                () -> TransferEngine.builder().provider("shm").providerOption(LibfabricOptions.LIBRARY, MISSING)
                        .build().close());
        assertTrue(e.getMessage().contains(MISSING), e.getMessage());
    }

    /**
     * A copied symlink that became a short text file naming its target (seen with the CUDA build's folder): not
     * loadable; and once a libfabric is loaded, another file is refused rather than silently ignored.
     */
    @Test
    void aFileThatIsNotTheLoadedLibraryIsRefusedWithTheReason(@TempDir Path dir) throws IOException {
        Path placeholder = dir.resolve("libfabric.so.1");
        Files.writeString(placeholder, "libfabric.so.1.20.0");
        String before = LibfabricLibrary.loadedPath();
        ProviderUnavailableException e = assertThrows(ProviderUnavailableException.class,
                () -> LibfabricLibrary.load(placeholder.toString()));
        assertTrue(e.getMessage().contains(placeholder.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(before == null ? "could not be loaded" : "already loaded"), e.getMessage());

        TestProviders.assumeLibfabric();
        LibfabricLibrary lib = LibfabricLibrary.load(null);
        e = assertThrows(ProviderUnavailableException.class, () -> LibfabricLibrary.load(placeholder.toString()));
        assertTrue(e.getMessage().contains("already loaded from " + lib.path()), e.getMessage());
        assertTrue(e.getMessage().contains(placeholder.toString()), e.getMessage());
        assertSame(lib, LibfabricLibrary.load(lib.path()), "naming the loaded file again is fine");
        LibfabricLibrary.probe(null); // the availability probe never fails once a library is loaded
    }

    private static LibfabricSettings settings(String provider, String hmem, String cudaDevices) {
        Map<String, String> m = new java.util.HashMap<>();
        m.put(LibfabricOptions.PROVIDER, provider);
        if (hmem != null) {
            m.put(LibfabricOptions.HMEM, hmem);
        }
        if (cudaDevices != null) {
            m.put(LibfabricOptions.CUDA_DEVICES, cudaDevices);
        }
        return LibfabricSettings.from(m);
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
