package dev.sluice.gateway.observe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.proxy.TestPki;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.PathMatcher;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.TlsCertificate;
import dev.sluice.gateway.route.TlsCertificates;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * ingress-nginx's request metrics without a server: labels, configuration bounds, removal of gone
 * locations, the allocation bound of the hot path, and the counter names on the wire.
 */
class RequestMetricsTest {
    static final MetricsConfig CONFIG = new MetricsConfig("k8s.io/ingress-nginx", "ingress-nginx", "sluice-0", true,
            false, MetricsConfig.TIME_BUCKETS, MetricsConfig.LENGTH_BUCKETS, MetricsConfig.SIZE_BUCKETS, Set.of(),
            true);

    static Route route(String source, String path, String service) {
        Backend b = Backend.of("shop-" + service + "-80", service, List.of(new Endpoint("127.0.0.1", 8080)));
        return new Route(new PathMatcher.Prefix(path), source, b, RouteOptions.DEFAULTS);
    }

    static RouteTable table(String host, Route... routes) {
        return new RouteTable(Map.of(host, HostRoutes.of(host, List.of(routes), false, Route.notFound(), null)), Map.of(),
                HostRoutes.of("", List.of(), false, Route.notFound(), null));
    }

    @Test
    void labelsAreIngressNginxsAndComeFromTheLocation() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RequestMetrics m = new RequestMetrics(registry, CONFIG);
        m.record(route("shop/web", "/api", "web"), "shop.test", "", "GET", 200, 2_000_000, 100, 300, 0, 1_000_000,
                1_500_000);
        Meter.Id id = registry.get("nginx_ingress_controller_requests").counter().getId();
        assertThat(id.getTags()).extracting(t -> t.getKey() + "=" + t.getValue()).containsExactlyInAnyOrder(
                "controller_class=k8s.io/ingress-nginx", "controller_namespace=ingress-nginx",
                "controller_pod=sluice-0", "namespace=shop", "ingress=web", "service=web", "path=/api",
                "method=GET", "status=200", "canary=", "host=shop.test");
        assertThat(registry.get("nginx_ingress_controller_request_duration_seconds").summary().totalAmount())
                .isEqualTo(0.002);
        assertThat(registry.get("nginx_ingress_controller_response_duration_seconds").summary().totalAmount())
                .isEqualTo(0.0015);
        assertThat(registry.get("nginx_ingress_controller_request_size").summary().totalAmount()).isEqualTo(100);
        assertThat(registry.get("nginx_ingress_controller_bytes_sent").summary().totalAmount()).isEqualTo(300);
    }

    @Test
    void aLocalAnswerWithoutAnUpstreamObservesNoUpstreamTimes() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new RequestMetrics(registry, CONFIG).record(null, "_", "", "BREW", 404, 1000, 50, 80, -1, -1, -1);
        assertThat(registry.get("nginx_ingress_controller_requests").tags("ingress", "", "service", "", "path", "",
                "method", "OTHER", "host", "_").counter().count()).isEqualTo(1);
        assertThat(registry.find("nginx_ingress_controller_response_duration_seconds").summary().count()).isZero();
        assertThat(registry.find("nginx_ingress_controller_connect_duration_seconds").summary().count()).isZero();
    }

    @Test
    void flagsBoundTheLabelsAndTheMetrics() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        MetricsConfig narrow = new MetricsConfig("c", "ns", "pod", false, true, new double[] {1, 0.5},
                MetricsConfig.LENGTH_BUCKETS, MetricsConfig.SIZE_BUCKETS,
                Set.of("nginx_ingress_controller_bytes_sent", "header_duration_seconds"), true);
        RequestMetrics m = new RequestMetrics(registry, narrow);
        Route r = route("shop/web", "/", "web");
        m.record(r, "a.test", "", "GET", 503, 1000, 1, 1, 1, 1, 1);
        m.record(r, "b.test", "", "GET", 502, 1000, 1, 1, 1, 1, 1);
        assertThat(registry.get("nginx_ingress_controller_requests").counters()).singleElement()
                .satisfies(c -> {
                    assertThat(c.getId().getTag("host")).isNull();
                    assertThat(c.getId().getTag("status")).isEqualTo("5xx");
                    assertThat(c.count()).isEqualTo(2);
                });
        assertThat(registry.find("nginx_ingress_controller_bytes_sent").meters()).isEmpty();
        assertThat(registry.find("nginx_ingress_controller_header_duration_seconds").meters()).isEmpty();
        assertThat(narrow.timeBuckets()).containsExactly(0.5, 1);
    }

    @Test
    void disabledRequestMetricsRecordNothing() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        MetricsConfig off = new MetricsConfig("c", "ns", "pod", true, false, MetricsConfig.TIME_BUCKETS,
                MetricsConfig.LENGTH_BUCKETS, MetricsConfig.SIZE_BUCKETS, Set.of(), false);
        RequestMetrics m = new RequestMetrics(registry, off);
        m.record(route("shop/web", "/", "web"), "a.test", "", "GET", 200, 1000, 1, 1, 1, 1, 1);
        assertThat(m.enabled()).isFalse();
        assertThat(registry.getMeters()).isEmpty();
        assertThat(MetricsConfig.REQUEST_METRICS).noneMatch(off::records);
    }

    @Test
    void aPublishDropsTheSeriesOfLocationsThatAreGone() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RequestMetrics m = new RequestMetrics(registry, CONFIG);
        Route api = route("shop/web", "/api", "web");
        Route old = route("shop/old", "/old", "old");
        m.record(api, "shop.test", "", "GET", 200, 1, 1, 1, -1, -1, -1);
        m.record(old, "shop.test", "", "GET", 200, 1, 1, 1, -1, -1, -1);
        m.retain(table("shop.test", route("shop/web", "/api", "web"))); // equal location, new objects
        assertThat(registry.find("nginx_ingress_controller_requests").counters())
                .extracting(c -> c.getId().getTag("ingress")).containsExactly("web");
        m.retain(table("other.test", route("shop/web", "/api", "web"))); // the host is gone
        assertThat(registry.find("nginx_ingress_controller_requests").counters()).isEmpty();
        // the loop caches were dropped with them: a request of the live table counts in the registry
        Route live = route("shop/web", "/api", "web");
        m.record(live, "other.test", "", "GET", 200, 1, 1, 1, -1, -1, -1);
        assertThat(registry.get("nginx_ingress_controller_requests").counter().count()).isEqualTo(1);
    }

    @Test
    void aLabelSetLookedUpAgainAfterEveryTableIsTrackedOnceAndALateOneIsRemovedByTheNextChange() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RequestMetrics m = new RequestMetrics(registry, CONFIG);
        for (int i = 0; i < 100; i++) { // endpoint-only publishes: the loops look the series up again each time
            m.tableReplaced();
            m.record(route("shop/web", "/api", "web"), "shop.test", "", "GET", 200, 1, 1, 1, -1, -1, -1);
        }
        assertThat(m.registeredLabelSets()).isEqualTo(1);
        assertThat(registry.get("nginx_ingress_controller_requests").counter().count()).isEqualTo(100);

        Route gone = route("shop/old", "/old", "old");
        m.retain(table("shop.test", route("shop/web", "/api", "web")));
        m.record(gone, "shop.test", "", "GET", 200, 1, 1, 1, -1, -1, -1); // finishing on the old table
        assertThat(registry.find("nginx_ingress_controller_requests").tag("ingress", "old").counters()).hasSize(1);
        m.retain(table("shop.test", route("shop/web", "/api", "web")));
        assertThat(registry.find("nginx_ingress_controller_requests").tag("ingress", "old").counters()).isEmpty();
        assertThat(m.registeredLabelSets()).isEqualTo(1);
    }

    /**
     * The hot path's bound: once a location's label set has been seen, recording allocates
     * nothing per request (no Tags, no strings, no boxing). Measured with the JVM's per-thread
     * allocation counter over 100,000 requests, with a generous allowance for the counter's own
     * noise; building Tags per request (what this replaced) costs hundreds of bytes each.
     */
    @Test
    void recordingASeenLabelSetAllocatesNothingPerRequest() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        RequestMetrics m = new RequestMetrics(new SimpleMeterRegistry(), CONFIG);
        Route r = route("shop/web", "/api", "web");
        Route canary = route("shop/web", "/api", "web");
        long tid = Thread.currentThread().getId();
        for (int i = 0; i < 20_000; i++) { // warm-up: registration and JIT
            recordOne(m, r, canary, i);
        }
        int n = 100_000;
        long before = threads.getThreadAllocatedBytes(tid);
        for (int i = 0; i < n; i++) {
            recordOne(m, r, canary, i);
        }
        long perRequest = (threads.getThreadAllocatedBytes(tid) - before) / n;
        assertThat(perRequest).as("bytes allocated per recorded request").isLessThan(8);
    }

    private static void recordOne(RequestMetrics m, Route r, Route canary, int i) {
        int status = i % 10 == 0 ? 503 : 200;
        m.record((i & 1) == 0 ? r : canary, "shop.test", (i & 1) == 0 ? "" : "shop-web-v2-80", "GET", status,
                1_000_000L + i, 200, 1200, 0, 500_000, 900_000);
    }

    @Test
    void ingressNginxCountersKeepTheirNamesOnTheWire() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new RequestMetrics(registry, CONFIG).record(null, "_", "", "GET", 404, 1, 1, 1, -1, -1, -1);
        new ControllerMetrics(registry, CONFIG, Clock.systemUTC(), "1.0", "abc", "sluice").failed();
        registry.counter("sluice_table_publishes").increment();
        String text = PrometheusText.ingressNginxNames(registry.scrape());
        assertThat(text).containsPattern("(?m)^# TYPE nginx_ingress_controller_requests counter$")
                .containsPattern("(?m)^nginx_ingress_controller_requests\\{")
                .containsPattern("(?m)^nginx_ingress_controller_errors\\{.*\\} 1\\.0$")
                .doesNotContain("nginx_ingress_controller_requests_total")
                .containsPattern("(?m)^nginx_ingress_controller_build_info\\{.*release=\"1.0\".*\\} 1\\.0$")
                .containsPattern("(?m)^sluice_table_publishes_total "); // Sluice's own keep the convention
    }

    @Test
    void controllerMetricsFollowThePublishedTable() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Clock clock = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);
        ControllerMetrics c = new ControllerMetrics(registry, CONFIG, clock, "1.0", "abc", "sluice");
        TestPki.Issued cert = TestPki.ca("CN=shop.test");
        Route dark = new Route(new PathMatcher.Prefix("/"), "shop/dark", Backend.of("shop-empty-80", "empty", List.of()),
                RouteOptions.DEFAULTS);
        Route missing = new Route(new PathMatcher.Prefix("/x"), "shop/gone",
                Backend.unavailable("shop-nope-80", "nope", "service shop/nope not found"), RouteOptions.DEFAULTS);
        RouteTable t = table("shop.test", route("shop/web", "/api", "web"), dark, missing)
                .withTls(new TlsCertificates(Map.of("shop.test", new TlsCertificate("shop/shop-tls", cert.pem(), "k"))));
        c.published(t, 42);

        assertThat(registry.get("nginx_ingress_controller_config_hash").gauge().value()).isEqualTo(42);
        assertThat(registry.get("nginx_ingress_controller_config_last_reload_successful").gauge().value()).isEqualTo(1);
        assertThat(registry.get("nginx_ingress_controller_config_last_reload_successful_timestamp_seconds").gauge()
                .value()).isEqualTo(clock.instant().getEpochSecond());
        assertThat(registry.get("nginx_ingress_controller_success").counter().count()).isEqualTo(1);
        assertThat(registry.get("nginx_ingress_controller_ssl_expire_time_seconds")
                .tags("host", "shop.test", "namespace", "shop", "secret_name", "shop-tls", "class", "k8s.io/ingress-nginx")
                .gauge().value()).isEqualTo(cert.certificate().getNotAfter().toInstant().getEpochSecond());
        assertThat(orphan(registry, "dark", "no-endpoint")).isEqualTo(1);
        assertThat(orphan(registry, "dark", "no-service")).isZero();
        assertThat(orphan(registry, "gone", "no-service")).isEqualTo(1);
        assertThat(orphan(registry, "web", "no-endpoint")).isZero();

        c.failed();
        assertThat(registry.get("nginx_ingress_controller_config_last_reload_successful").gauge().value()).isZero();
        assertThat(registry.get("nginx_ingress_controller_config_hash").gauge().value()).isZero();
        assertThat(registry.get("nginx_ingress_controller_errors").counter().count()).isEqualTo(1);

        c.published(table("shop.test", route("shop/web", "/api", "web")), 43); // the dark Ingress is deleted
        assertThat(registry.find("nginx_ingress_controller_orphan_ingress").tag("ingress", "dark").gauges()).isEmpty();
        assertThat(registry.find("nginx_ingress_controller_ssl_expire_time_seconds").gauges()).isEmpty();
    }

    /**
     * Re-registering a MultiGauge replaces every row (tens of thousands at 10,000 Ingresses): a
     * publish whose rows are equal keeps the registered gauges; a changed row registers them anew.
     * A publish that is no reload (only endpoints changed) moves neither {@code success} nor the
     * reload timestamp, but the gauges still follow the table.
     */
    @Test
    void gaugeRowsAreRegisteredAgainOnlyWhenSomeRowChanged() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        java.util.concurrent.atomic.AtomicReference<Instant> now =
                new java.util.concurrent.atomic.AtomicReference<>(Instant.parse("2026-01-02T03:04:05Z"));
        Clock clock = new Clock() {
            @Override
            public Instant instant() {
                return now.get();
            }

            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                throw new UnsupportedOperationException();
            }
        };
        ControllerMetrics c = new ControllerMetrics(registry, CONFIG, clock, "1.0", "abc", "sluice");
        Route dark = new Route(new PathMatcher.Prefix("/"), "shop/dark", Backend.of("shop-empty-80", "empty", List.of()),
                RouteOptions.DEFAULTS);
        c.published(table("shop.test", route("shop/web", "/api", "web"), dark), 42);
        var first = registry.get("nginx_ingress_controller_orphan_ingress").tags("ingress", "web", "type", "no-endpoint")
                .gauge();

        // an equal table, other objects (a full rebuild): the same gauges stay registered
        now.set(now.get().plusSeconds(60));
        c.published(table("shop.test", route("shop/web", "/api", "web"), dark), 42, false);
        assertThat(registry.get("nginx_ingress_controller_orphan_ingress").tags("ingress", "web", "type", "no-endpoint")
                .gauge()).isSameAs(first);
        assertThat(registry.get("nginx_ingress_controller_success").counter().count()).isEqualTo(1);
        assertThat(registry.get("nginx_ingress_controller_config_last_reload_successful_timestamp_seconds").gauge()
                .value()).isEqualTo(Instant.parse("2026-01-02T03:04:05Z").getEpochSecond());

        // dark gets endpoints: its row changes, no reload, the gauges follow
        Route lit = new Route(new PathMatcher.Prefix("/"), "shop/dark", route("shop/web", "/api", "web").backend(),
                RouteOptions.DEFAULTS);
        c.published(table("shop.test", route("shop/web", "/api", "web"), lit), 42, false);
        assertThat(orphan(registry, "dark", "no-endpoint")).isZero();
        assertThat(registry.get("nginx_ingress_controller_success").counter().count()).isEqualTo(1);

        c.published(table("shop.test", route("shop/web", "/api", "web"), lit), 43, true);
        assertThat(registry.get("nginx_ingress_controller_success").counter().count()).isEqualTo(2);
        assertThat(registry.get("nginx_ingress_controller_config_hash").gauge().value()).isEqualTo(43);
        assertThat(registry.get("nginx_ingress_controller_config_last_reload_successful_timestamp_seconds").gauge()
                .value()).isEqualTo(now.get().getEpochSecond());
    }

    /** The key retain() keeps locations by names the same series as the request tags. */
    @Test
    void locationKeyIsTheLocationTagsNamespaceIngressAndPath() {
        for (Route r : new Route[] {route("shop/web", "/api", "web"), route("noslash", "/", "x"), Route.notFound(),
                null}) {
            Tags t = RequestMetrics.locationTags(r);
            assertThat(RequestMetrics.locationKey(r)).as(String.valueOf(r)).containsExactly(
                    t.stream().filter(x -> x.getKey().equals("namespace")).findFirst().orElseThrow().getValue(),
                    t.stream().filter(x -> x.getKey().equals("ingress")).findFirst().orElseThrow().getValue(),
                    t.stream().filter(x -> x.getKey().equals("path")).findFirst().orElseThrow().getValue());
        }
    }

    private static double orphan(SimpleMeterRegistry registry, String ingress, String type) {
        return registry.get("nginx_ingress_controller_orphan_ingress").tags("ingress", ingress, "type", type,
                "namespace", "shop").gauge().value();
    }
}
