package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.sluice.gateway.proxy.RawHttpClient;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ingress-nginx's metrics as Prometheus scrapes them from a running Sluice ({@code --manifests},
 * real loopback backends): names, label sets, histogram buckets, the labels of a 503 without
 * endpoints, and the queries people run on them (Flagger's canary success rate, a latency
 * quantile from the buckets) evaluated by hand on two scrapes.
 */
class SluiceAppMetricsTest {
    @TempDir
    Path dir;

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<HttpServer> backends = new ArrayList<>();
    private SluiceApp app;
    private int webPort;

    @AfterEach
    void stop() {
        if (app != null) {
            app.close();
        }
        backends.forEach(b -> b.stop(0));
    }

    /** A Pod that answers {@code ?status=N} with N (default 200). */
    private int backend(String ip) throws IOException {
        return backend(ip, 0);
    }

    private int backend(String ip, int port) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(ip, port), 0);
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

    private void manifests() throws IOException {
        int v1 = backend("127.0.0.41");
        webPort = v1;
        int v2 = backend("127.0.0.42");
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
                kind: Service
                metadata: {name: web-v2, namespace: shop}
                spec: {ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: empty, namespace: shop}
                spec: {ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: web, namespace: shop}
                subsets: [{addresses: [{ip: 127.0.0.41}], ports: [{port: %d}]}]
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: web-v2, namespace: shop}
                subsets: [{addresses: [{ip: 127.0.0.42}], ports: [{port: %d}]}]
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
                metadata: {name: dark, namespace: shop}
                spec:
                  ingressClassName: nginx
                  rules:
                    - host: dark.test
                      http:
                        paths:
                          - {path: /, pathType: Prefix, backend: {service: {name: empty, port: {number: 80}}}}
                """.formatted(v1, v2));
    }

    private void start(String... extra) throws IOException {
        manifests();
        List<String> args = new ArrayList<>(List.of("--http-port=0", "--https-port=0", "--healthz-port=0",
                "--bind-address=127.0.0.1", "--event-loops=1", "--access-log=off", "--manifests", dir.toString()));
        args.addAll(List.of(extra));
        app = new SluiceApp(Main.parse(args.toArray(String[]::new)));
        app.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> app.routes().isPublished());
    }

    private int get(String host, String path, String... headers) throws Exception {
        StringBuilder req = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n");
        for (int i = 0; i < headers.length; i += 2) {
            req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        try (RawHttpClient c = RawHttpClient.connect(app.httpPort())) {
            return c.exchange(req.append("\r\n").toString()).status();
        }
    }

    @Test
    void scrapesIngressNginxsNamesLabelsAndBuckets() throws Exception {
        start();
        assertThat(get("shop.test", "/api/items?status=200")).isEqualTo(200);
        assertThat(get("dark.test", "/anything")).isEqualTo(503);
        Scrape s = scrapeWhen(x -> x.sum("nginx_ingress_controller_requests", Map.of("ingress", "dark")) == 1
                && x.sum("nginx_ingress_controller_requests", Map.of("ingress", "web")) == 1);

        assertThat(s.text).contains("# TYPE nginx_ingress_controller_requests counter")
                .contains("# TYPE nginx_ingress_controller_request_duration_seconds histogram")
                .contains("# TYPE nginx_ingress_controller_response_size histogram")
                .contains("# TYPE nginx_ingress_controller_bytes_sent histogram")
                .doesNotContain("sluice_requests");
        Sample web = s.only("nginx_ingress_controller_requests", Map.of("ingress", "web"));
        assertThat(web.labels).containsOnlyKeys("controller_class", "controller_namespace", "controller_pod",
                "namespace", "ingress", "service", "path", "method", "status", "canary", "host");
        assertThat(web.labels).containsEntry("controller_class", "k8s.io/ingress-nginx").containsEntry("namespace", "shop")
                .containsEntry("service", "web").containsEntry("path", "/api").containsEntry("method", "GET")
                .containsEntry("status", "200").containsEntry("canary", "").containsEntry("host", "shop.test");

        // the 503 of a Service without endpoints is the location's, not "none"'s
        Sample dark = s.only("nginx_ingress_controller_requests", Map.of("status", "503"));
        assertThat(dark.labels).containsEntry("namespace", "shop").containsEntry("ingress", "dark")
                .containsEntry("service", "empty").containsEntry("path", "/").containsEntry("host", "dark.test");

        // a classic histogram with ingress-nginx's default buckets
        assertThat(s.samples("nginx_ingress_controller_request_duration_seconds_bucket", Map.of("ingress", "web")))
                .extracting(x -> Double.parseDouble(x.labels.get("le").replace("+Inf", "Infinity")))
                .containsExactly(.005, .01, .025, .05, .1, .25, .5, 1.0, 2.5, 5.0, 10.0, Double.POSITIVE_INFINITY);
        assertThat(s.samples("nginx_ingress_controller_request_size_bucket", Map.of("ingress", "web")))
                .extracting(x -> x.labels.get("le")).startsWith("10.0", "20.0").endsWith("100.0", "+Inf");
        assertThat(s.samples("nginx_ingress_controller_bytes_sent_bucket", Map.of("ingress", "web")))
                .extracting(x -> x.labels.get("le")).endsWith("1000000.0", "1.0E7", "+Inf");
        // no upstream for the 503: no upstream time observed, as ingress-nginx skips NGINX's "-"
        // (the series exists with count 0: a label set's meters are registered together)
        assertThat(s.sum("nginx_ingress_controller_response_duration_seconds_count", Map.of("ingress", "dark")))
                .isZero();
        assertThat(s.sum("nginx_ingress_controller_response_duration_seconds_count", Map.of("ingress", "web")))
                .isEqualTo(1);

        // controller metrics: a publish is a successful "reload"; the dark Ingress is orphaned
        assertThat(s.sum("nginx_ingress_controller_config_last_reload_successful", Map.of())).isEqualTo(1);
        assertThat(s.sum("nginx_ingress_controller_config_hash", Map.of())).isPositive();
        assertThat(s.sum("nginx_ingress_controller_success", Map.of())).isGreaterThanOrEqualTo(1);
        assertThat(s.sum("nginx_ingress_controller_orphan_ingress", Map.of("ingress", "dark", "type", "no-endpoint")))
                .isEqualTo(1);
        assertThat(s.sum("nginx_ingress_controller_orphan_ingress", Map.of("ingress", "web", "type", "no-endpoint")))
                .isZero();
        assertThat(s.only("nginx_ingress_controller_build_info", Map.of()).labels)
                .containsKeys("release", "build", "repository");
        assertThat(s.text).contains("sluice_table_rebuilds_total"); // Sluice's own stay
    }

    /** The endpoints {@code shop.test/api} goes to in the live table. */
    private List<String> webEndpoints() {
        var match = app.routes().current().findHost("shop.test").match("/api");
        return ((dev.sluice.gateway.route.HostRoutes.Matched) match).route().backend().endpoints().stream()
                .map(e -> e.address()).toList();
    }

    /** Replaces a manifest file in one rename, so the watcher never reads half of it. */
    private void write(String name, String content) throws IOException {
        Path tmp = dir.resolve("." + name + ".tmp");
        Files.writeString(tmp, content);
        Files.move(tmp, dir.resolve(name), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Endpoint changes are not reloads (ingress-nginx applies them through Lua): Sluice rebuilds
     * the whole table for them, but they leave {@code config_hash}, {@code success} and the request
     * series alone, and every request lands in the location's one series whatever Pod served it; a
     * real reload afterwards still drops the series of a deleted Ingress.
     */
    @Test
    void endpointChurnKeepsTheSeriesAndIsNoReload() throws Exception {
        start();
        // more Pods of Service web: the port of the first one, on other addresses
        int pod = webPort;
        backend("127.0.0.43", pod);
        backend("127.0.0.44", pod);
        assertThat(get("shop.test", "/api")).isEqualTo(200);
        assertThat(get("dark.test", "/")).isEqualTo(503);
        Scrape before = scrapeWhen(x -> x.sum("nginx_ingress_controller_requests", Map.of("ingress", "web")) == 1
                && x.sum("nginx_ingress_controller_requests", Map.of("ingress", "dark")) == 1);
        double hash = before.sum("nginx_ingress_controller_config_hash", Map.of());
        double reloads = before.sum("nginx_ingress_controller_success", Map.of());
        double rebuilds = before.sum("sluice_table_rebuilds_total", Map.of());

        // a file after shop.yaml, so shop.yaml's objects keep their place (and identity)
        for (int i = 0; i < 6; i++) {
            String other = i % 2 == 0 ? "127.0.0.43" : "127.0.0.44";
            write("zz-pods.yaml", """
                    apiVersion: discovery.k8s.io/v1
                    kind: EndpointSlice
                    metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
                    addressType: IPv4
                    ports: [{port: %d}]
                    endpoints:
                      - addresses: [127.0.0.41]
                      - addresses: [%s]
                    """.formatted(pod, other));
            await().atMost(Duration.ofSeconds(10)).until(() -> webEndpoints().contains(other));
            for (int r = 0; r < 3; r++) {
                assertThat(get("shop.test", "/api")).isEqualTo(200);
            }
        }
        Scrape churned = scrapeWhen(x -> x.sum("nginx_ingress_controller_requests", Map.of("ingress", "web")) == 19);
        assertThat(churned.samples("nginx_ingress_controller_requests", Map.of("ingress", "web"))).hasSize(1);
        assertThat(churned.sum("nginx_ingress_controller_config_hash", Map.of())).isEqualTo(hash);
        assertThat(churned.sum("nginx_ingress_controller_success", Map.of())).isEqualTo(reloads);
        assertThat(churned.sum("sluice_table_rebuilds_total", Map.of())).isGreaterThanOrEqualTo(rebuilds + 6);
        assertThat(churned.sum("nginx_ingress_controller_requests", Map.of("ingress", "dark"))).isEqualTo(1);

        // a reload: the dark Ingress is deleted, its series go, web's stay
        String shop = Files.readString(dir.resolve("shop.yaml"));
        write("shop.yaml", shop.substring(0, shop.lastIndexOf("---")));
        Scrape reloaded = scrapeWhen(x -> x.samples("nginx_ingress_controller_requests", Map.of("ingress", "dark"))
                .isEmpty());
        assertThat(reloaded.sum("nginx_ingress_controller_requests", Map.of("ingress", "web"))).isEqualTo(19);
        assertThat(reloaded.sum("nginx_ingress_controller_success", Map.of())).isGreaterThan(reloads);
        assertThat(reloaded.sum("nginx_ingress_controller_config_hash", Map.of())).isNotEqualTo(hash);
    }

    /**
     * Flagger's nginx success rate,
     * {@code sum(rate(requests{namespace,ingress,canary!="",status!~"5.*"})) / sum(rate(requests{namespace,ingress,canary!=""}))},
     * and a p90 from {@code request_duration_seconds_bucket}, computed from the increase between
     * two scrapes as Prometheus would.
     */
    @Test
    void flaggersCanaryQueriesWorkOnTheScrapes() throws Exception {
        start();
        assertThat(get("shop.test", "/api")).isEqualTo(200);
        assertThat(get("shop.test", "/api", "X-Canary", "always")).isEqualTo(200);
        Scrape first = scrapeWhen(x -> x.sum("nginx_ingress_controller_requests", Map.of("ingress", "web")) == 2);

        for (int i = 0; i < 8; i++) {
            assertThat(get("shop.test", "/api?status=200", "X-Canary", "always")).isEqualTo(200);
        }
        for (int i = 0; i < 2; i++) {
            assertThat(get("shop.test", "/api?status=500", "X-Canary", "always")).isEqualTo(500);
        }
        for (int i = 0; i < 5; i++) {
            assertThat(get("shop.test", "/api?status=500")).isEqualTo(500); // mainline errors: not the canary's
        }
        Scrape second = scrapeWhen(x -> x.sum("nginx_ingress_controller_requests", Map.of("ingress", "web")) == 17);

        Predicate<Sample> canary = x -> x.labels.get("namespace").equals("shop") && x.labels.get("ingress").equals("web")
                && !x.labels.get("canary").isEmpty();
        Predicate<Sample> notFiveXx = x -> !x.labels.get("status").startsWith("5");
        double ok = increase(first, second, "nginx_ingress_controller_requests", canary.and(notFiveXx));
        double all = increase(first, second, "nginx_ingress_controller_requests", canary);
        assertThat(all).isEqualTo(10);
        assertThat(ok / all * 100).isEqualTo(80);
        assertThat(second.samples("nginx_ingress_controller_requests", Map.of("ingress", "web", "status", "500")))
                .extracting(x -> x.labels.get("canary")).containsExactlyInAnyOrder("", "shop-web-v2-80");

        // histogram_quantile(0.9, sum by (le) (increase(..._bucket{canary!=""}))): linear within the bucket
        Map<Double, Double> buckets = new java.util.TreeMap<>();
        for (Sample b : second.samples("nginx_ingress_controller_request_duration_seconds_bucket", Map.of())) {
            if (canary.test(b)) {
                double le = Double.parseDouble(b.labels.get("le").replace("+Inf", "Infinity"));
                buckets.merge(le, b.value - first.value(b), Double::sum);
            }
        }
        double total = buckets.get(Double.POSITIVE_INFINITY);
        assertThat(total).isEqualTo(10);
        double rank = 0.9 * total;
        double lower = 0;
        double below = 0;
        Double p90 = null;
        for (Map.Entry<Double, Double> e : buckets.entrySet()) {
            if (e.getValue() >= rank) {
                p90 = e.getKey().isInfinite() ? lower : lower + (e.getKey() - lower) * (rank - below) / (e.getValue() - below);
                break;
            }
            lower = e.getKey();
            below = e.getValue();
        }
        // loopback requests: well under a second, and never more than the largest finite bucket
        assertThat(p90).isNotNull().isGreaterThan(0).isLessThanOrEqualTo(1.0);
        double sum = increase(first, second, "nginx_ingress_controller_request_duration_seconds_sum", canary);
        assertThat(sum / total).isPositive().isLessThan(1.0); // Flagger's average request duration
    }

    @Test
    void theMetricFlagsBoundLabelsAndBuckets() throws Exception {
        start("--metrics-per-host=false", "--report-status-classes", "--time-buckets=0.1,1",
                "--exclude-socket-metrics=nginx_ingress_controller_bytes_sent");
        assertThat(get("shop.test", "/api")).isEqualTo(200);
        Scrape s = scrapeWhen(x -> x.sum("nginx_ingress_controller_requests", Map.of("ingress", "web")) == 1);
        Sample web = s.only("nginx_ingress_controller_requests", Map.of("ingress", "web"));
        assertThat(web.labels).doesNotContainKey("host").containsEntry("status", "2xx");
        assertThat(s.samples("nginx_ingress_controller_request_duration_seconds_bucket", Map.of("ingress", "web")))
                .extracting(x -> x.labels.get("le")).containsExactly("0.1", "1.0", "+Inf");
        assertThat(s.text).doesNotContain("nginx_ingress_controller_bytes_sent");
    }

    /**
     * {@code --enable-metrics=false}: a proxied request leaves no request series (it was served:
     * its access log line, written after the metrics would have been, is there), while
     * {@code /metrics} keeps the controller's; {@code true} records them.
     */
    @ParameterizedTest(name = "--enable-metrics={0}")
    @ValueSource(booleans = {true, false})
    void enableMetricsDecidesWhetherRequestsAreRecorded(boolean enabled) throws Exception {
        Path accessLog = dir.resolve("access.log");
        start("--enable-metrics=" + enabled, "--access-log=" + accessLog);
        assertThat(get("shop.test", "/api/items")).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> Files.exists(accessLog) && Files.readString(accessLog).contains("/api/items"));

        Scrape s = scrape();

        assertThat(s.sum("nginx_ingress_controller_config_last_reload_successful", Map.of())).isEqualTo(1);
        assertThat(s.text).contains("sluice_table_rebuilds_total");
        for (String name : List.of("nginx_ingress_controller_requests", "nginx_ingress_controller_request_duration_seconds",
                "nginx_ingress_controller_response_duration_seconds", "nginx_ingress_controller_request_size",
                "nginx_ingress_controller_response_size", "nginx_ingress_controller_bytes_sent")) {
            if (enabled) {
                assertThat(s.text).as(name).contains("# TYPE " + name + " ");
            } else {
                assertThat(s.text).as(name).doesNotContain(name);
            }
        }
        if (enabled) {
            assertThat(s.sum("nginx_ingress_controller_requests", Map.of("ingress", "web"))).isEqualTo(1);
        }
    }

    // ------------------------------------------------------------------ a small Prometheus text reader

    private Scrape scrapeWhen(Predicate<Scrape> ready) {
        Scrape[] last = new Scrape[1];
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            last[0] = scrape();
            return ready.test(last[0]);
        });
        return last[0];
    }

    private Scrape scrape() throws Exception {
        String text = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.adminPort() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        return Scrape.parse(text);
    }

    private static double increase(Scrape first, Scrape second, String name, Predicate<Sample> filter) {
        return second.samples(name, Map.of()).stream().filter(filter).mapToDouble(x -> x.value - first.value(x)).sum();
    }

    record Sample(String name, Map<String, String> labels, double value) {}

    record Scrape(String text, List<Sample> all) {
        private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? (\\S+)$");
        private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

        static Scrape parse(String text) {
            List<Sample> samples = new ArrayList<>();
            for (String line : text.split("\n")) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                Matcher m = LINE.matcher(line);
                assertThat(m.matches()).as("a sample line: %s", line).isTrue();
                Map<String, String> labels = new LinkedHashMap<>();
                if (m.group(3) != null) {
                    Matcher l = LABEL.matcher(m.group(3));
                    while (l.find()) {
                        labels.put(l.group(1), l.group(2));
                    }
                }
                samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(4))));
            }
            return new Scrape(text, samples);
        }

        List<Sample> samples(String name, Map<String, String> match) {
            return all.stream().filter(x -> x.name.equals(name))
                    .filter(x -> match.entrySet().stream().allMatch(e -> e.getValue().equals(x.labels.get(e.getKey()))))
                    .toList();
        }

        Sample only(String name, Map<String, String> match) {
            List<Sample> found = samples(name, match);
            assertThat(found).as("%s%s", name, match).hasSize(1);
            return found.get(0);
        }

        double sum(String name, Map<String, String> match) {
            return samples(name, match).stream().mapToDouble(Sample::value).sum();
        }

        /** The value of the same series in this scrape, 0 when it did not exist yet. */
        double value(Sample same) {
            return all.stream().filter(x -> x.name.equals(same.name) && x.labels.equals(same.labels))
                    .mapToDouble(Sample::value).findFirst().orElse(0);
        }
    }
}
