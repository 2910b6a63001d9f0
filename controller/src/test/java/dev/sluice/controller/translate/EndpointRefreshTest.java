package dev.sluice.controller.translate;

import static dev.sluice.controller.testing.Fixtures.endpoints;
import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.admin.RoutesJson;
import dev.sluice.gateway.balance.TrafficSplit;
import dev.sluice.gateway.balance.Upstream;
import dev.sluice.gateway.proxy.TestCertificates;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteTable;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressTLSBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * An endpoint change translates to exactly what a fresh translator gives for the same objects —
 * the same table, the same upstream sharing, the same problems — while the translator only
 * refreshes endpoints ({@link EndpointRefresh}) when nothing but endpoint addresses changed, and
 * translates in full otherwise (a backend losing its last endpoint, an SSL passthrough host's
 * endpoints, a certificate crossing its expiry, time going backwards).
 */
class EndpointRefreshTest {
    private static final String P = "nginx.ingress.kubernetes.io/";
    private static final String NS = "shop";
    private static final TranslatorConfig CONFIG = new TranslatorConfig("nginx", "k8s.io/ingress-nginx", false,
            "ingress-nginx/fallback", "nginx.ingress.kubernetes.io")
            .withStreams(new StreamConfig("ingress-nginx/tcp-services", null, Set.of()))
            .withSslPassthrough(true);
    private static final Instant NOW = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    private static final int SERVICES = 12;

    /** Every way a table holds a backend: locations, canaries, error pages, fallbacks, streams, passthrough. */
    private static final class Cluster {
        final List<Ingress> ingresses = new ArrayList<>();
        final List<Service> services = new ArrayList<>();
        final List<EndpointSlice> slices = new ArrayList<>();
        final List<Endpoints> legacy = new ArrayList<>();
        final List<Secret> secrets = new ArrayList<>();
        final List<ConfigMap> configMaps = new ArrayList<>();

        Cluster() {
            for (int i = 0; i < SERVICES; i++) {
                services.add(service(NS, "svc-" + i, 80));
                slices.add(slice(NS, "svc-" + i + "-a", "svc-" + i, 8080, "10.0." + i + ".1", "10.0." + i + ".2"));
            }
            for (String name : List.of("errors", "cip", "tls-app")) {
                services.add(service(NS, name, 80));
                slices.add(slice(NS, name + "-a", name, 8080, "10.1.0.1"));
            }
            services.add(service(NS, "legacy", 80));
            legacy.add(endpoints(NS, "legacy", 8080, List.of("10.2.0.1"), List.of()));
            services.add(service("ingress-nginx", "fallback", 80));
            slices.add(slice("ingress-nginx", "fallback-a", "fallback", 8080, "10.9.0.1"));
            configMaps.add(new ConfigMapBuilder().withNewMetadata().withNamespace("ingress-nginx")
                    .withName("tcp-services").endMetadata().withData(Map.of("9000", NS + "/svc-4:80")).build());

            for (int i = 0; i < 10; i++) {
                // h-i.test: / -> svc-i, /b -> svc-(i+1): every Service but the first serves two hosts
                Ingress ing = ingress(NS, "ing-" + i, "h-" + i + ".test", "/", "svc-" + i, 80);
                ing.getSpec().getRules().get(0).getHttp().getPaths().add(
                        ingress(NS, "x", "x", "/b", "svc-" + (i + 1), 80).getSpec().getRules().get(0).getHttp()
                                .getPaths().get(0));
                ingresses.add(aged(ing, i));
            }
            ingresses.add(aged(annotated(ingress(NS, "canary-weight", "h-1.test", "/", "svc-10", 80),
                    Map.of(P + "canary", "true", P + "canary-weight", "20")), 100));
            ingresses.add(aged(annotated(ingress(NS, "canary-header", "h-2.test", "/", "svc-11", 80),
                    Map.of(P + "canary", "true", P + "canary-by-header", "X-Canary")), 101));
            ingresses.add(aged(annotated(ingress(NS, "errors", "err.test", "/", "svc-3", 80),
                    Map.of(P + "custom-http-errors", "404,503", P + "default-backend", "errors")), 20));
            ingresses.add(aged(annotated(ingress(NS, "cip", "cip.test", "/", "cip", 80),
                    Map.of(P + "service-upstream", "true")), 21));
            ingresses.add(aged(ingress(NS, "cip-pods", "cip2.test", "/", "cip", 80), 22));
            ingresses.add(aged(ingress(NS, "legacy", "legacy.test", "/", "legacy", 80), 23));
            ingresses.add(aged(annotated(ingress(NS, "pass", "pass.test", "/", "tls-app", 80),
                    Map.of(P + "ssl-passthrough", "true")), 24));
        }

        ClusterState state() {
            return new ClusterState(ingresses, List.of(), services, slices, legacy, secrets, configMaps);
        }

        /** Replaces the EndpointSlice of {@code svc} by one with {@code ips} (all ready). */
        void endpointsOf(String svc, String... ips) {
            String ns = svc.equals("fallback") ? "ingress-nginx" : NS;
            slices.replaceAll(s -> s.getMetadata().getName().equals(svc + "-a") ? slice(ns, svc + "-a", svc, 8080, ips)
                    : s);
        }

        private static Ingress annotated(Ingress ing, Map<String, String> annotations) {
            Map<String, String> all = new HashMap<>(ing.getMetadata().getAnnotations());
            all.putAll(annotations);
            ing.getMetadata().setAnnotations(all);
            return ing;
        }

        private static Ingress aged(Ingress ing, int seconds) {
            ing.getMetadata().setCreationTimestamp(Instant.ofEpochSecond(1_700_000_000L + seconds).toString());
            return ing;
        }
    }

    @Test
    void everyEndpointChangeTranslatesAsAFreshTranslatorWouldAndRefreshesOnlyWhenTheConfigurationStays() {
        Cluster cluster = new Cluster();
        IngressTranslator translator = new IngressTranslator(CONFIG);
        Translation previous = translator.translate(cluster.state(), NOW);
        assertThat(previous.table().tls().passthrough("pass.test")).as("the fleet has a passthrough host").isNotNull();
        assertThat(previous.table().streams().services()).as("and a TCP service").hasSize(1);
        assertThat(translator.endpointRefreshes()).isZero();

        Random random = new Random(20261204);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < SERVICES; i++) {
            names.add("svc-" + i);
        }
        names.addAll(List.of("errors", "cip", "tls-app", "fallback"));
        int refreshesExpected = 0;
        int fullWithEndpointsOnly = 0;
        for (int step = 0; step < 300; step++) {
            String what;
            int kind = random.nextInt(20);
            if (kind == 0) {
                String svc = names.get(random.nextInt(names.size()));
                cluster.endpointsOf(svc);
                what = "step " + step + ": " + svc + " loses every endpoint";
            } else if (kind == 1) {
                cluster.legacy.set(0, endpoints(NS, "legacy", 8080, List.of("10.2.0." + (step % 250 + 1)), List.of()));
                what = "step " + step + ": legacy Endpoints replaced";
            } else {
                String svc = names.get(random.nextInt(names.size()));
                String[] ips = new String[1 + random.nextInt(3)];
                for (int k = 0; k < ips.length; k++) {
                    ips[k] = "10.3." + random.nextInt(4) + "." + (1 + random.nextInt(3));
                }
                cluster.endpointsOf(svc, ips);
                what = "step " + step + ": " + svc + " now at " + List.of(ips);
            }
            ClusterState state = cluster.state();
            long refreshesBefore = translator.endpointRefreshes();
            Translation again = translator.translate(state, NOW);
            Translation fresh = new IngressTranslator(CONFIG).translate(state, NOW);

            assertSameTranslation(again, fresh, what);
            boolean sameConfiguration = again.configuration().equals(previous.configuration());
            boolean refreshed = translator.endpointRefreshes() > refreshesBefore;
            assertThat(refreshed).as(what + ": refreshed exactly when the configuration stayed")
                    .isEqualTo(sameConfiguration);
            if (refreshed) {
                refreshesExpected++;
            } else if (!what.contains("loses")) {
                fullWithEndpointsOnly++;
            }
            previous = again;
        }
        // the walk must exercise both paths, or it shows nothing
        assertThat(refreshesExpected).as("steps that only refreshed endpoints").isGreaterThan(150);
        assertThat(fullWithEndpointsOnly).as("steps translated in full although only endpoints changed "
                + "(a backend regaining endpoints, the passthrough host)").isPositive();
    }

    @Test
    void aCertificateThatExpiresBetweenTwoChangesIsReportedAsAFullTranslationWould() {
        Cluster cluster = new Cluster();
        Instant notAfter = NOW.plus(Duration.ofHours(1));
        TestCertificates.Issued c = TestCertificates.issue("h-0.test", NOW.minus(Duration.ofHours(1)), notAfter,
                "h-0.test");
        cluster.secrets.add(new SecretBuilder().withNewMetadata().withNamespace(NS).withName("tls").endMetadata()
                .withType("kubernetes.io/tls")
                .withStringData(Map.of("tls.crt", c.certificatePem(), "tls.key", c.pkcs8KeyPem())).build());
        cluster.ingresses.get(0).getSpec().setTls(List.of(new IngressTLSBuilder().withHosts("h-0.test")
                .withSecretName("tls").build()));
        IngressTranslator translator = new IngressTranslator(CONFIG);
        assertThat(translator.translate(cluster.state(), NOW).problems()).isEmpty();

        cluster.endpointsOf("svc-5", "10.5.5.5");
        Translation before = translator.translate(cluster.state(), notAfter);
        assertThat(translator.endpointRefreshes()).as("still valid at its last instant: a refresh").isEqualTo(1);
        assertThat(before.problems()).isEmpty();

        cluster.endpointsOf("svc-5", "10.5.5.6");
        Instant expired = notAfter.plusSeconds(1);
        Translation after = translator.translate(cluster.state(), expired);
        assertThat(translator.endpointRefreshes()).as("expired since: translated in full").isEqualTo(1);
        assertSameTranslation(after, new IngressTranslator(CONFIG).translate(cluster.state(), expired), "expired");
        assertThat(after.problems()).extracting(Problem::message).anyMatch(m -> m.contains("expired on"));

        cluster.endpointsOf("svc-5", "10.5.5.7");
        Translation earlier = translator.translate(cluster.state(), NOW);
        assertThat(translator.endpointRefreshes()).as("the clock went back: translated in full").isEqualTo(1);
        assertSameTranslation(earlier, new IngressTranslator(CONFIG).translate(cluster.state(), NOW), "clock back");
    }

    @Test
    void hostsWithoutAChangedBackendAreTheLastTablesOwn() {
        Cluster cluster = new Cluster();
        IngressTranslator translator = new IngressTranslator(CONFIG);
        RouteTable before = translator.translate(cluster.state(), NOW).table();
        cluster.endpointsOf("svc-7", "10.7.7.7");
        RouteTable after = translator.translate(cluster.state(), NOW).table();

        assertThat(translator.endpointRefreshes()).isEqualTo(1);
        // svc-7 serves h-7.test (/) and h-6.test (/b)
        for (String host : before.hosts().keySet()) {
            boolean uses = host.equals("h-7.test") || host.equals("h-6.test");
            assertThat(after.hosts().get(host) == before.hosts().get(host)).as(host).isEqualTo(!uses);
        }
        Route slash = after.hosts().get("h-7.test").routes().stream()
                .filter(r -> r.matcher().path().equals("/")).findFirst().orElseThrow();
        assertThat(slash.backend().endpoints()).extracting(e -> e.address()).containsExactly("10.7.7.7");
    }

    private static void assertSameTranslation(Translation actual, Translation fresh, String what) {
        assertThat(actual).as(what).isEqualTo(fresh); // table, problems, notes, awaiting objects
        assertThat(RoutesJson.render(actual.table(), 1)).as(what).isEqualTo(RoutesJson.render(fresh.table(), 1));
        assertThat(sharing(actual.table())).as(what + ": which locations share an upstream")
                .isEqualTo(sharing(fresh.table()));
        assertThat(actual.table().streams()).as(what).isEqualTo(fresh.table().streams());
    }

    /**
     * The table's upstreams in a fixed walk order, each as the number of the first place it was
     * met: equal lists mean the same locations share the same upstreams (and balancers).
     */
    private static List<Integer> sharing(RouteTable table) {
        Map<Upstream, Integer> seen = new IdentityHashMap<>();
        List<Integer> out = new ArrayList<>();
        List<HostRoutes> hosts = new ArrayList<>(new TreeMap<>(table.hosts()).values());
        hosts.addAll(new TreeMap<>(table.wildcards()).values());
        hosts.add(table.catchAll());
        for (HostRoutes h : hosts) {
            List<Route> routes = new ArrayList<>(h.routes());
            routes.add(h.fallback());
            for (Route r : routes) {
                TrafficSplit s = r.split();
                List<Upstream> ups = new ArrayList<>();
                if (s != null) {
                    ups.add(s.mainline());
                    ups.add(s.canary());
                }
                ups.add(r.options().errorPages() == null ? null : r.options().errorPages().backend());
                for (Upstream u : ups) {
                    out.add(u == null ? -1 : seen.computeIfAbsent(u, k -> seen.size()));
                }
            }
        }
        for (String host : new TreeMap<>(table.tls().passthrough()).keySet()) {
            out.add(seen.computeIfAbsent(table.tls().passthrough(host), k -> seen.size()));
        }
        return out;
    }
}
