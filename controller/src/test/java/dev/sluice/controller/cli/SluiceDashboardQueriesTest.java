package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.sun.net.httpserver.HttpServer;
import dev.sluice.gateway.proxy.RawHttpClient;
import dev.sluice.gateway.proxy.TestCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real consumers of ingress-nginx's metrics, run on a Sluice process's scrapes: every query
 * of ingress-nginx's community Grafana dashboard (its template variables resolved as Grafana
 * does, both "All" and one concrete selection), Flagger's NGINX canary queries, and the shipped
 * {@code deploy/grafana/sluice.json} and {@code deploy/prometheus/sluice-rules.yaml}. The process
 * runs as in a Pod ({@code POD_NAME}, {@code POD_NAMESPACE}); its scrapes get the target labels
 * Prometheus adds ({@link PromQl}). Traffic: mainline and canary requests, 5xx answers, a TLS
 * host, a backend whose endpoint refuses connections.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SluiceDashboardQueriesTest {
    private static final Pattern STARTED = Pattern.compile("HTTP port (\\d+), HTTPS port (\\d+), admin port (\\d+)");
    private static final String POD = "sluice-7d9f8-x2x4q";
    private static final String POD_NAMESPACE = "ingress-nginx";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    private final List<HttpServer> backends = new ArrayList<>();
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Process sluice;
    /** Prometheus as the Prometheus Operator scrapes (ServiceMonitor): what the dashboard expects. */
    private PromQl prometheus;
    /** Prometheus as Flagger's chart scrapes ({@code kubernetes-pods} job): what Flagger's queries expect. */
    private PromQl flaggerPrometheus;
    private long now;
    private final Socket refusedPort = new Socket();

    @BeforeAll
    void runSluiceUnderTrafficAndScrapeIt() throws Exception {
        int web = backend("127.0.0.51");
        int canary = backend("127.0.0.52");
        // bound but never listening, held until the end: connections are refused, and no other
        // process can take the port and answer on it meanwhile
        refusedPort.bind(new InetSocketAddress("127.0.0.1", 0));
        int refused = refusedPort.getLocalPort();
        TestCertificates.Issued cert = TestCertificates.issue("shop.test", java.time.Instant.now().minus(Duration.ofHours(1)),
                java.time.Instant.now().plus(Duration.ofDays(30)), "shop.test");
        Files.writeString(dir.resolve("shop.yaml"), """
                apiVersion: networking.k8s.io/v1
                kind: IngressClass
                metadata: {name: nginx}
                spec: {controller: k8s.io/ingress-nginx}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: shop-tls, namespace: shop}
                type: kubernetes.io/tls
                data:
                  tls.crt: %s
                  tls.key: %s
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: shop}
                spec: {ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: web, namespace: shop}
                subsets: [{addresses: [{ip: 127.0.0.51}], ports: [{port: %d}]}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web-v2, namespace: shop}
                spec: {ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: web-v2, namespace: shop}
                subsets: [{addresses: [{ip: 127.0.0.52}], ports: [{port: %d}]}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: gone, namespace: shop}
                spec: {ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: gone, namespace: shop}
                subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{port: %d}]}]
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: web
                  namespace: shop
                  annotations:
                    nginx.ingress.kubernetes.io/ssl-redirect: "false"
                spec:
                  ingressClassName: nginx
                  tls: [{hosts: [shop.test], secretName: shop-tls}]
                  rules:
                    - host: shop.test
                      http:
                        paths:
                          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
                          - {path: /gone, pathType: Prefix, backend: {service: {name: gone, port: {number: 80}}}}
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
                          - {path: /, pathType: Prefix, backend: {service: {name: web-v2, port: {number: 80}}}}
                """.formatted(base64(cert.certificatePem()), base64(cert.pkcs1KeyPem()), web, canary, refused));

        Path log = dir.resolve("sluice.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Dlogback.configurationFile=logback.xml",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "--manifests", dir.resolve("shop.yaml").toString(), "--bind-address=127.0.0.1",
                "--http-port=0", "--https-port=0", "--healthz-port=0", "--event-loops=1", "--access-log=off",
                "--shutdown-grace-period=0")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("POD_NAME", POD);
        pb.environment().put("POD_NAMESPACE", POD_NAMESPACE);
        pb.environment().put("SLUICE_LOG_LEVEL", "INFO");
        sluice = pb.start();
        int[] ports = new int[3];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
            Matcher m = STARTED.matcher(Files.readString(log));
            assertThat(sluice.isAlive()).as("sluice is running: %s", Files.readString(log)).isTrue();
            if (!m.find()) {
                return false;
            }
            for (int i = 0; i < 3; i++) {
                ports[i] = Integer.parseInt(m.group(i + 1));
            }
            return true;
        });
        int http = ports[0];
        int admin = ports[2];
        await().atMost(Duration.ofSeconds(20)).until(() -> status(admin, "/readyz") == 200);

        prometheus = new PromQl(Map.of("namespace", POD_NAMESPACE, "pod", POD, "kubernetes_pod_name", POD,
                "job", "sluice", "instance", "127.0.0.1:" + admin));
        // Flagger's chart (charts/flagger/templates/prometheus.yaml, job kubernetes-pods) names the
        // target's namespace and Pod kubernetes_namespace and kubernetes_pod_name, so the metrics'
        // own namespace label stays as it is
        flaggerPrometheus = new PromQl(Map.of("kubernetes_namespace", POD_NAMESPACE, "kubernetes_pod_name", POD,
                "job", "kubernetes-pods", "instance", "127.0.0.1:" + admin));
        for (int round = 0; round < 3; round++) {
            if (round > 0) {
                traffic(http);
            }
            // scrapes a second apart at least, as Prometheus' would be further
            Thread.sleep(1000);
            now = System.currentTimeMillis();
            String scrape = get(admin, "/metrics");
            prometheus.scrape(scrape, now);
            flaggerPrometheus.scrape(scrape, now);
        }
    }

    @AfterAll
    void stop() throws IOException {
        if (sluice != null) {
            sluice.destroy();
        }
        backends.forEach(b -> b.stop(0));
        refusedPort.close();
    }

    private void traffic(int http) throws Exception {
        for (int i = 0; i < 20; i++) {
            assertThat(send(http, "/", Map.of())).isEqualTo(200);
        }
        for (int i = 0; i < 8; i++) {
            assertThat(send(http, "/", Map.of("X-Canary", "always"))).isEqualTo(200);
        }
        assertThat(send(http, "/?status=500", Map.of())).isEqualTo(500);
        assertThat(send(http, "/?status=503", Map.of("X-Canary", "always"))).isEqualTo(503);
        assertThat(send(http, "/gone", Map.of())).isEqualTo(502);
    }

    // ---------------------------------------------------------------- the consumers

    @Test
    void everyQueryOfIngressNginxsDashboardReturnsData() throws IOException {
        List<String[]> lines = resource("consumers/ingress-nginx-dashboard.promql");
        Map<String, String> concrete = new LinkedHashMap<>();
        for (String[] l : lines) {
            if (l[0].startsWith("variable ")) {
                String name = l[0].substring(9);
                Set<String> values = prometheus.labelValues(substitute(l[1], concrete), now);
                assertThat(values).as("variable %s: %s", name, l[1]).isNotEmpty();
                concrete.put(name, values.iterator().next());
            }
        }
        assertThat(concrete).containsEntry("namespace", POD_NAMESPACE).containsEntry("controller", POD)
                .containsEntry("controller_class", "k8s.io/ingress-nginx").containsEntry("exported_namespace", "shop")
                .containsEntry("ingress", "web");
        Map<String, String> all = new LinkedHashMap<>();
        concrete.keySet().forEach(k -> all.put(k, ".*")); // the dashboard's allValue

        int panels = 0;
        for (String[] l : lines) {
            if (!l[0].startsWith("panel ")) {
                continue;
            }
            panels++;
            String title = l[0].substring(6);
            for (Map<String, String> vars : List.of(all, concrete)) {
                Map<String, String> v = new LinkedHashMap<>(vars);
                if (l[1].contains("ssl_expire_time_seconds")) {
                    v.put("ingress", ".*"); // ingress-nginx's metric has no ingress label either
                }
                List<PromQl.Sample> result = PromQl.vector(prometheus.evaluate(substitute(l[1], v), now));
                if (title.equals("Last Config Failed")) {
                    // count(... == 0): no data while the last reload succeeded, as with ingress-nginx
                    assertThat(result).as(title).isEmpty();
                    assertThat(PromQl.vector(prometheus.evaluate(substitute(
                            l[1].replace("count(", "(").replace(" == 0)", ")"), v), now)))
                            .as(title).singleElement().satisfies(s -> assertThat(s.value()).isEqualTo(1.0));
                    continue;
                }
                assertThat(result).as("%s with %s: %s", title, v, l[1]).isNotEmpty()
                        .allSatisfy(s -> assertThat(s.value()).as(title).isFinite());
            }
        }
        assertThat(panels).isEqualTo(21);
    }

    @Test
    void theDashboardsValuesAreRight() throws IOException {
        Map<String, String> all = Map.of("namespace", ".*", "controller_class", ".*", "controller", ".*",
                "exported_namespace", ".*", "ingress", ".*");
        Map<String, String> byTitle = new LinkedHashMap<>();
        for (String[] l : resource("consumers/ingress-nginx-dashboard.promql")) {
            byTitle.putIfAbsent(l[0], l[1]);
        }
        // the series start with the first round, so the window's rate is the second round's: 31
        // requests, 3 of them answered 5xx
        double success = PromQl.vector(prometheus.evaluate(substitute(
                byTitle.get("panel Controller Success Rate (non-4|5xx responses)"), all), now)).get(0).value();
        assertThat(success).isCloseTo(28.0 / 31, org.assertj.core.data.Offset.offset(0.001));
        double daysLeft = PromQl.vector(prometheus.evaluate(substitute(
                byTitle.get("panel Ingress Certificate Expiry"), all), now)).get(0).value() / 86400;
        assertThat(daysLeft).isBetween(29.9, 30.0);
    }

    @Test
    void flaggersNginxQueriesReturnTheCanarysSuccessRateAndDuration() throws IOException {
        Map<String, Double> values = new LinkedHashMap<>();
        for (String[] l : resource("consumers/flagger-nginx.promql")) {
            String q = l[1].replace("{{ namespace }}", "shop").replace("{{ ingress }}", "web")
                    .replace("{{ interval }}", "1m");
            List<PromQl.Sample> r = PromQl.vector(flaggerPrometheus.evaluate(q, now));
            assertThat(r).as(l[0]).singleElement();
            values.put(l[0], r.get(0).value());
        }
        // the canary served 9 requests of the round in the window, one of them 503
        assertThat(values.get("request-success-rate")).isCloseTo(100.0 * 8 / 9, org.assertj.core.data.Offset.offset(0.01));
        assertThat(values.get("request-duration")).isPositive().isLessThan(5000);
    }

    @Test
    void everyQueryOfTheShippedDashboardReturnsData() throws IOException {
        JsonNode dashboard = JSON.readTree(Path.of("..", "deploy", "grafana", "sluice.json").toFile());
        Map<String, String> vars = Map.of("namespace", POD_NAMESPACE, "controller_class", "k8s.io/ingress-nginx",
                "controller", POD, "exported_namespace", "shop", "ingress", ".*");
        List<String> exprs = dashboard.findValuesAsText("expr");
        assertThat(exprs).hasSizeGreaterThan(25);
        for (String expr : exprs) {
            String q = substitute(expr, vars);
            if (expr.contains("config_last_reload_successful") && expr.contains("== 0")) {
                assertThat(PromQl.vector(prometheus.evaluate(q, now))).as(expr).isEmpty();
                continue;
            }
            assertThat(PromQl.vector(prometheus.evaluate(q, now))).as(expr).isNotEmpty()
                    .allSatisfy(s -> assertThat(s.value()).as(expr).isFinite());
        }
    }

    @Test
    void theShippedAlertRulesEvaluateAndOnlyTheExpectedOnesFire() throws IOException {
        JsonNode rules = new YAMLMapper().readTree(Path.of("..", "deploy", "prometheus", "sluice-rules.yaml").toFile());
        Map<String, Integer> firing = new LinkedHashMap<>();
        for (JsonNode group : rules.at("/spec/groups")) {
            for (JsonNode rule : group.get("rules")) {
                firing.put(rule.get("alert").asText(),
                        PromQl.vector(prometheus.evaluate(rule.get("expr").asText(), now)).size());
            }
        }
        assertThat(firing).containsOnlyKeys("SluiceConfigProblems", "SluiceTableRebuildFailing", "NGINXConfigFailed",
                "NGINXCertificateExpiry", "NGINXTooMany500s", "IngressWithoutEndpoints");
        // 3 of 31 requests per round answer 5xx: above 5%; the backend "gone" has endpoints (that refuse)
        assertThat(firing).containsEntry("NGINXTooMany500s", 1).containsEntry("SluiceConfigProblems", 0)
                .containsEntry("SluiceTableRebuildFailing", 0).containsEntry("NGINXConfigFailed", 0)
                .containsEntry("NGINXCertificateExpiry", 0).containsEntry("IngressWithoutEndpoints", 0);
    }

    // ---------------------------------------------------------------- helpers

    /** {@code $name} → value, longest names first ({@code $controller_class} before {@code $controller}). */
    private static String substitute(String query, Map<String, String> vars) {
        String out = query;
        List<String> names = new ArrayList<>(vars.keySet());
        names.sort((a, b) -> b.length() - a.length());
        for (String n : names) {
            out = out.replace("$" + n, vars.get(n));
        }
        return out;
    }

    private static List<String[]> resource(String name) throws IOException {
        List<String[]> out = new ArrayList<>();
        try (InputStream in = SluiceDashboardQueriesTest.class.getClassLoader().getResourceAsStream(name)) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int sep = line.indexOf(" :: ");
                out.add(new String[] {line.substring(0, sep), line.substring(sep + 4)});
            }
        }
        return out;
    }

    private int backend(String ip) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(ip, 0), 0);
        s.createContext("/", ex -> {
            String q = ex.getRequestURI().getQuery();
            int status = q != null && q.startsWith("status=") ? Integer.parseInt(q.substring(7)) : 200;
            byte[] body = "ok\n".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        s.start();
        backends.add(s);
        return s.getAddress().getPort();
    }

    private static int send(int port, String path, Map<String, String> headers) {
        StringBuilder req = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: shop.test\r\n");
        headers.forEach((n, v) -> req.append(n).append(": ").append(v).append("\r\n"));
        try (RawHttpClient c = RawHttpClient.connect(port)) {
            return c.exchange(req.append("\r\n").toString()).status();
        }
    }

    private int status(int port, String path) {
        try {
            return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private String get(int port, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static String base64(String pem) {
        return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.US_ASCII));
    }
}
