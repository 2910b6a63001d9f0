package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code sluice explain} and the admin port's {@code /routes/explain} on one set of manifests: a
 * canary by header (weight 0), a host in regex mode, the default backend, an Ingress of another
 * class. The CLI and the running controller give the same answer, and both are the data plane's
 * own decision.
 */
class ExplainTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private SluiceApp app;

    @BeforeEach
    void manifests() throws Exception {
        Files.writeString(dir.resolve("shop.yaml"), """
                apiVersion: networking.k8s.io/v1
                kind: IngressClass
                metadata: {name: nginx}
                spec: {controller: k8s.io/ingress-nginx}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: shop}
                spec: {ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: web, namespace: shop}
                subsets: [{addresses: [{ip: 10.0.0.1}, {ip: 10.0.0.2}], ports: [{port: 8080}]}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web-v2, namespace: shop}
                spec: {ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: web-v2, namespace: shop}
                subsets: [{addresses: [{ip: 10.0.0.9}], ports: [{port: 8080}]}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: fallback, namespace: shop}
                spec: {ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: fallback, namespace: shop}
                subsets: [{addresses: [{ip: 10.0.0.7}], ports: [{port: 8080}]}]
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: web, namespace: shop}
                spec:
                  ingressClassName: nginx
                  rules:
                    - host: shop.test
                      http:
                        paths:
                          - {path: /api, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
                          - {path: /api/admin, pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: web-canary
                  namespace: shop
                  annotations:
                    nginx.ingress.kubernetes.io/canary: "true"
                    nginx.ingress.kubernetes.io/canary-by-header: X-Canary
                spec:
                  ingressClassName: nginx
                  rules:
                    - host: shop.test
                      http:
                        paths:
                          - {path: /api, pathType: Prefix, backend: {service: {name: web-v2, port: {number: 80}}}}
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: ids
                  namespace: shop
                  annotations:
                    nginx.ingress.kubernetes.io/use-regex: "true"
                spec:
                  ingressClassName: nginx
                  rules:
                    - host: regex.test
                      http:
                        paths:
                          - {path: "/foo/bar/bar", pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}
                          - {path: "/foo/bar/[A-Z0-9]{3}", pathType: ImplementationSpecific, backend: {service: {name: web-v2, port: {number: 80}}}}
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: elsewhere, namespace: shop}
                spec:
                  ingressClassName: other
                  rules:
                    - host: shop.test
                      http:
                        paths:
                          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
                """);
    }

    @AfterEach
    void stop() {
        if (app != null) {
            app.close();
        }
    }

    /** Runs {@code sluice explain --json} and parses its output. */
    private JsonNode cli(String url, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("explain", "--json", "--manifests", dir.toString(),
                "--default-backend-service", "shop/fallback", url));
        args.addAll(List.of(more));
        StringWriter out = new StringWriter();
        CommandLine cmd = Main.commandLine(new Main());
        cmd.setOut(new PrintWriter(out));
        assertThat(cmd.execute(args.toArray(String[]::new))).isZero();
        return JSON.readTree(out.toString());
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.isTextual() ? n.asText() : n.toString()));
        return out;
    }

    @Test
    void theCanaryHeaderSendsTheRequestToTheCanaryAndSaysSo() throws Exception {
        JsonNode e = cli("http://shop.test/api/orders", "-H", "X-Canary: always");

        assertThat(e.at("/host/name").asText()).isEqualTo("shop.test");
        assertThat(e.at("/location/path").asText()).isEqualTo("/api");
        assertThat(e.at("/location/source").asText()).isEqualTo("shop/web");
        assertThat(e.at("/decision/action").asText()).isEqualTo("forward");
        assertThat(e.at("/canary/decision").asText()).isEqualTo("HEADER_ALWAYS");
        assertThat(e.at("/canary/side").asText()).isEqualTo("canary");
        assertThat(e.at("/canary/reason").asText()).isEqualTo("header x-canary: always");
        assertThat(e.at("/backend/name").asText()).isEqualTo("shop-web-v2-80");
        assertThat(texts(e.at("/backend/endpoints"))).containsExactly("10.0.0.9:8080");
        // the other location of the host, and why it lost
        assertThat(e.get("candidates")).anySatisfy(c -> {
            assertThat(c.get("path").asText()).isEqualTo("/api/admin");
            assertThat(c.get("result").asText()).isEqualTo("no match");
            assertThat(c.get("reason").asText()).isEqualTo("Exact /api/admin is not /api/orders");
        });
    }

    @Test
    void withoutTheHeaderWeightZeroKeepsTheMainline() throws Exception {
        JsonNode never = cli("http://shop.test/api/orders", "-H", "X-Canary: never");
        assertThat(never.at("/canary/decision").asText()).isEqualTo("HEADER_NEVER");
        assertThat(never.at("/backend/name").asText()).isEqualTo("shop-web-80");

        JsonNode plain = cli("http://shop.test/api/orders");
        assertThat(plain.at("/canary/decision").asText()).isEqualTo("WEIGHT_MAINLINE");
        assertThat(plain.at("/canary/side").asText()).isEqualTo("mainline");
        assertThat(plain.at("/canary/reason").asText()).contains("canary-weight 0");
        assertThat(texts(plain.at("/backend/endpoints"))).containsExactly("10.0.0.1:8080", "10.0.0.2:8080");
    }

    @Test
    void regexModeTriesLongerPathsFirstSoTheRegexShadowsTheLiteralPath() throws Exception {
        JsonNode e = cli("http://regex.test/foo/bar/bar");

        assertThat(e.at("/host/regexMode").asBoolean()).isTrue();
        assertThat(e.at("/location/path").asText()).isEqualTo("/foo/bar/[A-Z0-9]{3}");
        assertThat(e.at("/location/match").asText()).isEqualTo("Regex");
        assertThat(e.at("/backend/name").asText()).isEqualTo("shop-web-v2-80");
        JsonNode literal = e.get("candidates").get(1);
        assertThat(literal.get("path").asText()).isEqualTo("/foo/bar/bar");
        assertThat(literal.get("result").asText()).isEqualTo("shadowed");
        assertThat(literal.get("reason").asText()).contains("/foo/bar/[A-Z0-9]{3} comes first");

        JsonNode none = cli("http://regex.test/foo/bar/ab");
        assertThat(none.get("candidates")).allSatisfy(c -> assertThat(c.get("result").asText()).isEqualTo("no match"));
        assertThat(none.at("/location/fallback").asBoolean()).isTrue();
    }

    @Test
    void unmatchedPathsAndUnknownHostsGoToTheDefaultBackend() throws Exception {
        JsonNode path = cli("http://shop.test/checkout");
        assertThat(path.at("/location/fallback").asBoolean()).isTrue();
        assertThat(path.at("/location/why").asText()).contains("the default backend serves it");
        assertThat(path.at("/backend/name").asText()).isEqualTo("shop-fallback-80");
        assertThat(path.get("candidates")).allSatisfy(c -> assertThat(c.get("result").asText()).isEqualTo("no match"));

        JsonNode host = cli("http://nowhere.test/api");
        assertThat(host.at("/host/name").asText()).isEqualTo("_");
        assertThat(host.at("/host/how").asText()).isEqualTo("catch-all: no rule names nowhere.test");
        assertThat(host.at("/backend/name").asText()).isEqualTo("shop-fallback-80");
        // the path would match on another host: that is said too
        assertThat(host.get("otherHosts")).anySatisfy(o -> assertThat(o.get("host").asText()).isEqualTo("shop.test"));
    }

    @Test
    void anIngressOfAnotherClassIsNamedAsIgnored() throws Exception {
        JsonNode e = cli("http://shop.test/");

        assertThat(texts(e.get("ignored"))).containsExactly("ingress shop/elsewhere names the host but is not served:"
                + " ingressClassName other is not an IngressClass with controller k8s.io/ingress-nginx");
    }

    @Test
    void theTextFormReadsTopDown() throws Exception {
        StringWriter out = new StringWriter();
        CommandLine cmd = Main.commandLine(new Main());
        cmd.setOut(new PrintWriter(out));
        assertThat(cmd.execute("explain", "--manifests", dir.toString(), "http://shop.test/api/orders",
                "-H", "X-Canary: always")).isZero();

        assertThat(out.toString())
                .contains("host:      shop.test (exact host)")
                .contains("location:  Prefix /api from shop/web")
                .contains("decision:  forward to shop-web-v2-80 as /api/orders")
                .contains("canary:    shop-web-v2-80: canary — header x-canary: always")
                .contains("backend:   shop-web-v2-80 10.0.0.9:8080")
                .contains("  - Exact /api/admin (shop/web): no match — Exact /api/admin is not /api/orders");
    }

    @Test
    void theAdminPortExplainsTheLiveTableTheSameWay() throws Exception {
        app = new SluiceApp(Main.parse("--http-port=0", "--https-port=0", "--healthz-port=0",
                "--bind-address=127.0.0.1", "--event-loops=1", "--access-log=off", "--manifests", dir.toString(),
                "--default-backend-service=shop/fallback"));
        app.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> app.routes().isPublished());
        HttpClient client = HttpClient.newHttpClient();
        String query = "host=shop.test&path=" + URLEncoder.encode("/api/orders", StandardCharsets.UTF_8)
                + "&header=" + URLEncoder.encode("X-Canary:always", StandardCharsets.UTF_8);
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + app.adminPort() + "/routes/explain?" + query)).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode live = JSON.readTree(r.body());
        JsonNode offline = cli("http://shop.test/api/orders", "-H", "X-Canary: always");
        for (String field : new String[] {"host", "location", "decision", "canary", "backend", "candidates"}) {
            assertThat(live.get(field)).as(field).isEqualTo(offline.get(field));
        }

        HttpResponse<String> text = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + app.adminPort() + "/routes/explain?host=regex.test&path=/foo/bar/bar&format=text")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(text.body()).contains("location:  Regex /foo/bar/[A-Z0-9]{3} from shop/ids");

        HttpResponse<String> bad = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + app.adminPort() + "/routes/explain?host=shop.test&header=nocolon")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(bad.statusCode()).isEqualTo(400);
    }
}
