package dev.tuneloop.model.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubSettingsTest {
    @TempDir
    Path dir;

    private static HubSettings of(Map<String, String> env) {
        return HubSettings.fromLookup(env::get);
    }

    @Test
    void defaultsMatchHuggingFaceHub() {
        Map<String, String> env = new HashMap<>();
        env.put("HF_HOME", dir.resolve("no-token-here").toString()); // keep a real ~/.cache/huggingface/token out
        HubSettings s = of(env);

        assertEquals(URI.create("https://huggingface.co"), s.endpoint());
        assertEquals(dir.resolve("no-token-here/hub"), s.cacheDir());
        assertNull(s.token());
        assertFalse(s.offline());
        HubSettings home = of(Map.of("HF_TOKEN_PATH", dir.resolve("none").toString()));
        assertEquals(Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub"), home.cacheDir());
    }

    @Test
    void hfHubCacheWinsOverHfHome() {
        HubSettings s = of(Map.of("HF_HOME", dir.resolve("home").toString(), "HF_HUB_CACHE",
                dir.resolve("cache").toString(), "XDG_CACHE_HOME", dir.resolve("xdg").toString()));

        assertEquals(dir.resolve("cache"), s.cacheDir());
        assertEquals(dir.resolve("xdg/huggingface/hub"),
                of(Map.of("XDG_CACHE_HOME", dir.resolve("xdg").toString())).cacheDir());
    }

    @Test
    void offlineAcceptsTheSameTruthyValuesAsHuggingFaceHub() {
        for (String v : new String[] {"1", "true", "YES", "on"}) {
            assertTrue(of(Map.of("HF_HUB_OFFLINE", v, "HF_HOME", dir.toString())).offline(), v);
        }
        for (String v : new String[] {"0", "false", ""}) {
            assertFalse(of(Map.of("HF_HUB_OFFLINE", v, "HF_HOME", dir.toString())).offline(), v);
        }
    }

    @Test
    void tokenFromEnvironmentOrTokenFileAndNeverPrinted() throws IOException {
        Files.writeString(dir.resolve("token"), "hf_fromfile\n");
        HubSettings fromFile = of(Map.of("HF_HOME", dir.toString()));
        assertEquals("hf_fromfile", fromFile.token());

        HubSettings fromEnv = of(Map.of("HF_HOME", dir.toString(), "HF_TOKEN", "hf_abcdef123"));
        assertEquals("hf_abcdef123", fromEnv.token());
        assertFalse(fromEnv.toString().contains("hf_abcdef123"), fromEnv.toString());
        assertTrue(fromEnv.toString().contains("token=<set, masked>"), fromEnv.toString());
    }

    @Test
    void endpointIsTrimmedAndChecked() {
        assertEquals(URI.create("http://127.0.0.1:8080/mirror"),
                of(Map.of("HF_ENDPOINT", "http://127.0.0.1:8080/mirror/", "HF_HOME", dir.toString())).endpoint());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> of(Map.of("HF_ENDPOINT", "huggingface.co", "HF_HOME", dir.toString())));
        assertTrue(e.getMessage().startsWith("HF_ENDPOINT 'huggingface.co'"), e.getMessage());
    }

    @Test
    void systemPropertiesOverrideTheEnvironment() {
        String before = System.getProperty("HF_HUB_CACHE");
        System.setProperty("HF_HUB_CACHE", dir.resolve("from-property").toString());
        try {
            assertEquals(dir.resolve("from-property"), HubSettings.fromEnvironment().cacheDir());
        } finally {
            if (before == null) {
                System.clearProperty("HF_HUB_CACHE");
            } else {
                System.setProperty("HF_HUB_CACHE", before);
            }
        }
    }
}
