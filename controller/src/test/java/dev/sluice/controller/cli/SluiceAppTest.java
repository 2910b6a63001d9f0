package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.gateway.proxy.RawHttpClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole process in the JVM: {@code --manifests} with the seed tutorial in a temp directory,
 * real loopback backends, the gateway and the admin server on free ports, a real HTTP client.
 */
class SluiceAppTest {
    static final Path EXAMPLES = Path.of(System.getProperty("basedir", ".")).resolve("../deploy/examples").normalize();

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

    /** The seed tutorial's Services and legacy Ingress, plus Endpoints of real loopback backends. */
    private Path seedTutorial() throws IOException {
        backends = DemoBackends.start();
        Files.copy(EXAMPLES.resolve("user-service-v1.yaml"), dir.resolve("10-user-service-v1.yaml"));
        Files.copy(EXAMPLES.resolve("pay-service-v1.yaml"), dir.resolve("11-pay-service-v1.yaml"));
        Files.copy(EXAMPLES.resolve("legacy/ingress-legacy.yaml"), dir.resolve("20-ingress.yaml"));
        Files.writeString(dir.resolve("30-endpoints.yaml"), backends.endpointsYaml());
        return dir;
    }

    private SluiceApp start(String... extraArgs) {
        String[] base = {"--http-port=0", "--https-port=0", "--healthz-port=0", "--bind-address=127.0.0.1",
            "--event-loops=1", "--access-log=off"};
        String[] args = new String[base.length + extraArgs.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extraArgs, 0, args, base.length, extraArgs.length);
        app = new SluiceApp(Main.parse(args));
        app.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> app.routes().isPublished());
        return app;
    }

    @Test
    void servesTheSeedTutorialFromManifestFiles() throws Exception {
        start("--manifests", seedTutorial().toString());

        HttpResponse<String> user = get(app.httpPort(), "/user");
        assertThat(user.statusCode()).isEqualTo(200);
        assertThat(user.body()).startsWith("user-v1 pod user-v1-").contains("path=/\n"); // rewrite-target: /
        HttpResponse<String> pay = get(app.httpPort(), "/pay/order/7");
        assertThat(pay.body()).startsWith("pay-v1 pod pay-v1-1").contains("path=/\n");
        HttpResponse<String> other = get(app.httpPort(), "/other");
        assertThat(other.statusCode()).isEqualTo(200);
        assertThat(other.body()).startsWith("user-v1 pod "); // the Ingress's default backend

        assertThat(get(app.adminPort(), "/healthz").body()).isEqualTo("ok");
        assertThat(get(app.adminPort(), "/readyz").statusCode()).isEqualTo(200);
        String metrics = get(app.adminPort(), "/metrics").body();
        assertThat(metrics).contains("sluice_table_publishes_total").contains("sluice_manifest_file_problems 0.0")
                .containsPattern("(?m)^nginx_ingress_controller_requests\\{");

        JsonNode routes = new ObjectMapper().readTree(get(app.adminPort(), "/routes").body());
        // the files do not change: the first rebuild publishes, later ones find the same table
        assertThat(routes.get("generation").asLong()).isEqualTo(1);
        assertThat(metrics).contains("sluice_table_publishes_total 1.0");
        JsonNode catchAll = routes.at("/hosts/_");
        assertThat(catchAll.get("regexMode").asBoolean()).isTrue();
        assertThat(catchAll.get("routes")).extracting(r -> r.get("path").asText() + " " + r.get("match").asText()
                        + " " + r.get("backend").asText() + " " + r.get("rewriteTarget").asText())
                .containsExactly("/user Regex default-user-service-v1-80 /", "/pay Regex default-pay-service-v1-80 /");
        assertThat(catchAll.at("/routes/0/source").asText()).isEqualTo("default/nginx-ingress");
        assertThat(catchAll.at("/routes/0/endpoints")).hasSize(3);
        assertThat(catchAll.at("/fallback/backend").asText()).isEqualTo("default-user-service-v1-80");
    }

    @Test
    void anEditTakesEffectAndABrokenFileKeepsTheLastGoodContent() throws Exception {
        start("--manifests", seedTutorial().toString());
        Path ingress = dir.resolve("20-ingress.yaml");
        assertThat(get(app.httpPort(), "/pay").body()).startsWith("pay-v1 pod");

        // send /pay to the user Service
        Files.writeString(ingress, Files.readString(ingress).replace("serviceName: pay-service-v1",
                "serviceName: user-service-v1"));
        // (Sluice aims at 1 s; a unit test on a loaded machine only checks that it happens)
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
                .until(() -> get(app.httpPort(), "/pay").body().startsWith("user-v1 pod"));

        // a file that does not parse: reported, last good content stays, still ready
        Files.writeString(ingress, "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: [broken\n");
        await().atMost(Duration.ofSeconds(20)).until(() -> !app.fileProblems().isEmpty());
        assertThat(app.fileProblems().get(0)).contains("20-ingress.yaml");
        assertThat(get(app.adminPort(), "/metrics").body()).contains("sluice_manifest_file_problems 1.0");
        assertThat(get(app.httpPort(), "/pay").body()).startsWith("user-v1 pod");
        assertThat(get(app.httpPort(), "/user").body()).startsWith("user-v1 pod");
        assertThat(get(app.adminPort(), "/readyz").statusCode()).isEqualTo(200);
    }

    @Test
    void theRoundRobinRotationContinuesAcrossUnrelatedRebuilds() throws Exception {
        start("--manifests", seedTutorial().toString());
        java.util.List<String> pods = new java.util.ArrayList<>();
        for (int i = 0; i < 12; i++) {
            pods.add(get(app.httpPort(), "/user").body().substring(0, "user-v1 pod user-v1-1".length()));
            // an unrelated Ingress changes between requests: every request sees a rebuilt table
            long generation = app.routes().generation();
            Files.writeString(dir.resolve("40-unrelated.yaml"), "apiVersion: networking.k8s.io/v1\nkind: Ingress\n"
                    + "metadata: {name: unrelated, annotations: {kubernetes.io/ingress.class: nginx}}\n"
                    + "spec: {rules: [{host: other.test, http: {paths: [{path: /v" + i + ", pathType: Prefix, "
                    + "backend: {service: {name: pay-service-v1, port: {number: 80}}}}]}}]}\n");
            await().atMost(Duration.ofSeconds(3)).until(() -> app.routes().generation() > generation);
        }
        // three pods, strict rotation: every window of three consecutive requests saw each pod once
        for (int i = 0; i + 3 <= pods.size(); i++) {
            assertThat(new java.util.HashSet<>(pods.subList(i, i + 3))).as(pods.toString()).hasSize(3);
        }
    }

    @Test
    void enableProxyProtocolMakesTheHeaderNameTheClientAndRejectsConnectionsWithoutIt() throws Exception {
        start("--manifests", seedTutorial().toString(), "--enable-proxy-protocol");
        String request = "GET /user HTTP/1.1\r\nHost: sluice.test\r\n\r\n";

        try (RawHttpClient c = RawHttpClient.connect(app.httpPort())) {
            RawHttpClient.Response r = c.exchange("PROXY TCP4 203.0.113.7 10.0.0.1 56324 80\r\n" + request);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).startsWith("user-v1 pod").contains("\nx-real-ip: 203.0.113.7\n")
                    .contains("\nx-forwarded-for: 203.0.113.7\n");
        }
        try (RawHttpClient c = RawHttpClient.connect(app.httpPort())) {
            c.send(request);
            assertThat(c.closedByServer()).as("closed without an answer").isTrue();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> get(app.adminPort(), "/metrics").body()
                .contains("sluice_proxy_protocol_errors_total{reason=\"invalid\"} 1.0"));
    }

    @Test
    void withoutTheFlagAProxyProtocolHeaderIsABadRequest() throws Exception {
        start("--manifests", seedTutorial().toString());

        try (RawHttpClient c = RawHttpClient.connect(app.httpPort())) {
            assertThat(c.exchange("PROXY TCP4 203.0.113.7 10.0.0.1 56324 80\r\nGET /user HTTP/1.1\r\n"
                    + "Host: sluice.test\r\n\r\n").status()).isEqualTo(400);
        }
    }

    @Test
    void shutdownDrainsRequestsInFlightAndAnswers503OnReadyz() throws Exception {
        CountDownLatch arrived = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        HttpServer slow = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.31"), 0), 10);
        slow.createContext("/", exchange -> {
            arrived.countDown();
            try {
                release.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = "slow done".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        slow.start();
        try {
            Files.writeString(dir.resolve("slow.yaml"), """
                    apiVersion: networking.k8s.io/v1
                    kind: Ingress
                    metadata: {name: slow, annotations: {kubernetes.io/ingress.class: nginx}}
                    spec:
                      rules:
                        - http:
                            paths:
                              - {path: /slow, pathType: Prefix, backend: {service: {name: slow, port: {number: 80}}}}
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata: {name: slow}
                    spec: {ports: [{port: 80}]}
                    ---
                    apiVersion: v1
                    kind: Endpoints
                    metadata: {name: slow}
                    subsets: [{addresses: [{ip: 127.0.0.31}], ports: [{port: %d}]}]
                    """.formatted(slow.getAddress().getPort()));
            start("--manifests", dir.toString());
            int httpPort = app.httpPort();
            int adminPort = app.adminPort();

            CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/slow")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(arrived.await(5, TimeUnit.SECONDS)).isTrue();

            CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> app.shutdown(Duration.ofSeconds(10)));
            await().atMost(Duration.ofSeconds(5)).until(() -> get(adminPort, "/readyz").statusCode() == 503);
            assertThat(get(adminPort, "/readyz").body()).contains("draining");
            assertThat(stopping).isNotDone(); // waits for the request in flight

            release.countDown();
            HttpResponse<String> r = inFlight.get(5, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("slow done");
            stopping.get(10, TimeUnit.SECONDS);
            assertThatThrownBy(() -> get(httpPort, "/slow")).isInstanceOf(IOException.class);
        } finally {
            release.countDown();
            slow.stop(0);
        }
    }

    @Test
    void aTakenPortIsAStartupErrorThatNamesIt() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Files.writeString(dir.resolve("empty.yaml"), "");
            SluiceApp failing = new SluiceApp(Main.parse("--manifests", dir.toString(), "--bind-address=127.0.0.1",
                    "--http-port=" + taken.getLocalPort(), "--https-port=0", "--healthz-port=0", "--access-log=off"));
            try {
                assertThatThrownBy(failing::start).isInstanceOf(SluiceApp.StartupException.class)
                        .hasMessageContaining(String.valueOf(taken.getLocalPort()));
            } finally {
                failing.close();
            }
        }
    }

    private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
