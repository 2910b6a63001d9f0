package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import dev.sluice.gateway.proxy.RawHttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Access control as a user meets it in manifest mode: the examples of
 * {@code deploy/examples/access-control/} on real loopback backends, a missing Secret that denies
 * (503) until it is written, and a broken one that denies again.
 */
class SluiceAppAccessControlTest {
    static final Path EXAMPLES = SluiceAppTest.EXAMPLES;

    @TempDir
    Path dir;

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private DemoBackends backends;
    private SluiceApp app;

    @AfterEach
    void stop() {
        if (app != null) {
            app.close();
        }
        if (backends != null) {
            backends.close();
        }
    }

    private void start() throws IOException {
        backends = DemoBackends.start();
        Files.copy(EXAMPLES.resolve("ingressclass.yaml"), dir.resolve("00-class.yaml"));
        Files.copy(EXAMPLES.resolve("user-service-v1.yaml"), dir.resolve("10-user-service-v1.yaml"));
        Files.copy(EXAMPLES.resolve("pay-service-v1.yaml"), dir.resolve("11-pay-service-v1.yaml"));
        Files.writeString(dir.resolve("30-endpoints.yaml"), backends.endpointsYaml());
        for (String f : new String[] {"source-ranges.yaml", "rate-limit.yaml"}) {
            Files.copy(EXAMPLES.resolve("access-control").resolve(f), dir.resolve("40-" + f));
        }
        String basic = Files.readString(EXAMPLES.resolve("access-control/basic-auth.yaml"));
        int ingress = basic.indexOf("---\n");
        // the Ingress first; its Secret arrives later
        Files.writeString(dir.resolve("50-basic-auth-ingress.yaml"), basic.substring(ingress + 4));
        Files.writeString(dir.resolve("secret.yaml.later"), basic.substring(0, ingress));
        app = new SluiceApp(Main.parse(new String[] {"--http-port=0", "--https-port=0", "--healthz-port=0",
            "--bind-address=127.0.0.1", "--event-loops=1", "--access-log=off", "--manifests", dir.toString()}));
        app.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> app.routes().isPublished());
    }

    @Test
    void aProtectedHostIsDeniedUntilItsSecretExistsThenAsksForCredentials() throws Exception {
        start();
        assertThat(get("admin.example.com", "/", null).status()).isEqualTo(503);
        JsonNode routes = new ObjectMapper().readTree(admin("/routes").body());
        assertThat(routes.at("/hosts/admin.example.com/routes/0/access/denied").asText())
                .contains("admin-users").contains("not found");
        assertThat(admin("/metrics").body()).contains("sluice_config_problems");

        Files.move(dir.resolve("secret.yaml.later"), dir.resolve("05-admin-users.yaml"));
        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
                .until(() -> get("admin.example.com", "/", null).status() == 401);
        RawHttpClient.Response challenge = get("admin.example.com", "/", null);
        assertThat(challenge.header("www-authenticate")).isEqualTo("Basic realm=\"Authentication Required\"");
        assertThat(get("admin.example.com", "/", "alice:wrong").status()).isEqualTo(401);
        RawHttpClient.Response ok = get("admin.example.com", "/", "alice:wonderland");
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.text()).startsWith("user-v1 pod").doesNotContainIgnoringCase("authorization:");

        // a Secret broken later denies again instead of opening the host
        Path secret = dir.resolve("05-admin-users.yaml");
        Files.writeString(secret, Files.readString(secret).replace("$apr1$", "$nope$"));
        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
                .until(() -> get("admin.example.com", "/", "alice:wonderland").status() == 503);
    }

    @Test
    void theSourceRangeAndRateLimitExamplesWorkFromLoopback() throws Exception {
        start();
        assertThat(get("internal.example.com", "/", null).status()).isEqualTo(200);
        int ok = 0;
        int limited = 0;
        for (int i = 0; i < 20; i++) {
            int status = get("api.example.com", "/", null).status();
            if (status == 200) {
                ok++;
            } else if (status == 503) {
                limited++;
            }
        }
        // 2 r/s, burst 6, nodelay: 7 at once, plus at most a few more as time passes
        assertThat(ok).isBetween(7, 12);
        assertThat(ok + limited).isEqualTo(20);
    }

    /** A request for {@code host} on the HTTP port (credentials {@code user:password} or {@code null}). */
    private RawHttpClient.Response get(String host, String path, String credentials) {
        StringBuilder raw = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n");
        if (credentials != null) {
            raw.append("Authorization: Basic ").append(Base64.getEncoder().encodeToString(
                    credentials.getBytes(StandardCharsets.UTF_8))).append("\r\n");
        }
        try (RawHttpClient c = RawHttpClient.connect(app.httpPort())) {
            return c.exchange(raw.append("\r\n").toString());
        }
    }

    private HttpResponse<String> admin(String path) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.adminPort() + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
