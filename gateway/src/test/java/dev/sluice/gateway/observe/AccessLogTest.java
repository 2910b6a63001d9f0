package dev.sluice.gateway.observe;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogTest {

    private static AccessLogEntry entry(int status) {
        return new AccessLogEntry(1_700_000_000_123L, "10.0.0.7", "POST", "/a?b=c", "shop.example.com", status,
                512, 4_567_890L, "10.1.2.3:8080, 10.1.2.4:8080", "502, 200", "0.001, 0.003", "abc",
                "shop/web", "shop-web-80", false);
    }

    @Test
    void secondsHaveMillisecondResolutionLikeNginx() {
        assertThat(AccessLog.seconds(0)).isEqualTo("0.000");
        assertThat(AccessLog.seconds(4_567_890L)).isEqualTo("0.004");
        assertThat(AccessLog.seconds(12_345_000_000L)).isEqualTo("12.345");
        assertThat(AccessLog.seconds(-5)).isEqualTo("0.000");
    }

    @Test
    void anEntryIsOneFlatJsonObject() throws Exception {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            AccessLog.write(g, entry(200));
        }
        JsonNode json = new ObjectMapper().readTree(out.toString());
        assertThat(json.get("time").asText()).isEqualTo("2023-11-14T22:13:20.123Z");
        assertThat(json.get("status").asInt()).isEqualTo(200);
        assertThat(json.get("request_time").decimalValue()).isEqualByComparingTo("0.004");
        assertThat(json.get("upstream_addr").asText()).isEqualTo("10.1.2.3:8080, 10.1.2.4:8080");
        assertThat(json.get("upstream_status").asText()).isEqualTo("502, 200");
        assertThat(json.get("service").asText()).isEqualTo("shop-web-80");
        assertThat(json.get("canary").asBoolean()).isFalse();
    }

    @Test
    void fileLogGetsOneLinePerEntryAndCloseFlushes(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("a.log");
        AccessLog log = AccessLog.file(file);
        for (int i = 0; i < 1000; i++) {
            log.record(entry(200 + i % 3));
        }
        log.close();
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(1000);
        assertThat(new ObjectMapper().readTree(lines.get(999)).get("status").asInt()).isEqualTo(200);
        assertThat(log.enabled()).isFalse();
        assertThat(log.dropped()).isZero();
    }

    @Test
    void offRecordsNothing() {
        assertThat(AccessLog.off().enabled()).isFalse();
        AccessLog.off().record(entry(200)); // no effect, no error
    }
}
