package dev.sluice.controller.source;

import static dev.sluice.controller.testing.Fixtures.endpoints;
import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.ingressClass;
import static dev.sluice.controller.testing.Fixtures.ingressOfClass;
import static dev.sluice.controller.testing.Fixtures.notReady;
import static dev.sluice.controller.testing.Fixtures.opaqueSecret;
import static dev.sluice.controller.testing.Fixtures.typedSecret;
import static dev.sluice.controller.testing.Fixtures.ready;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static dev.sluice.controller.testing.Fixtures.terminating;
import static dev.sluice.controller.testing.Fixtures.tlsSecret;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.sync.SyncLoop;
import dev.sluice.controller.translate.ClusterState;
import dev.sluice.controller.translate.IngressTranslator;
import dev.sluice.controller.translate.TranslatorConfig;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.RouteTableHolder;
import dev.sluice.gateway.route.RoutingDecision;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Cluster mode against fabric8's mock API server in CRUD mode (real HTTP, real watches): objects
 * created, updated and deleted through the API → the published route table follows.
 */
@EnableKubernetesMockClient(crud = true)
class ClusterSourceTest {
    KubernetesClient client;

    private ClusterSource source;
    private SyncLoop loop;
    private final RouteTableHolder holder = new RouteTableHolder();
    private Duration debounce = Duration.ofMillis(20);
    private java.util.concurrent.Semaphore translatorGate;
    private final java.util.concurrent.atomic.AtomicLong changes = new java.util.concurrent.atomic.AtomicLong();

    private void start(String watchNamespace) {
        IngressTranslator translator = new IngressTranslator(TranslatorConfig.DEFAULTS);
        java.util.concurrent.Semaphore gate = translatorGate;
        loop = new SyncLoop(() -> source.snapshot(), (state, now) -> {
                    if (gate != null) {
                        gate.acquireUninterruptibly();
                        gate.release();
                    }
                    return translator.apply(state, now);
                }, holder,
                problems -> {}, debounce, new SimpleMeterRegistry());
        source = new ClusterSource(client, watchNamespace, () -> {
            changes.incrementAndGet();
            loop.markDirty();
        });
        source.start();
        await().until(source::hasSynced);
        loop.start();
        await().until(holder::isPublished);
    }

    @AfterEach
    void stop() {
        if (loop != null) {
            loop.close();
        }
        if (source != null) {
            source.close();
        }
    }

    private void apply(HasMetadata o) {
        client.resource(o).unlock().createOr(NonDeletingOperation::update);
    }

    /** The endpoints a request for host+path would be proxied to, or the status it is answered with. */
    private Object routing(String host, String path) {
        RoutingDecision d = holder.current().decide(host, path, "http");
        if (d instanceof RoutingDecision.Forward f) {
            return Set.copyOf(f.backend().endpoints());
        }
        return ((RoutingDecision.Respond) d).status();
    }

    private static Set<Endpoint> eps(String... ipPorts) {
        Set<Endpoint> s = new HashSet<>();
        for (String ipPort : ipPorts) {
            String[] p = ipPort.split(":");
            s.add(Endpoint.of(p[0], Integer.parseInt(p[1])));
        }
        return s;
    }

    @Test
    void ingressCreateUpdateDeleteIsFollowed() {
        apply(service("default", "web", 8080));
        apply(slice("default", "web-abc", "web", 8080, "127.0.0.2"));
        start(null);
        assertThat(routing("app.example.com", "/")).isEqualTo(404);

        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/x")).isEqualTo(eps("127.0.0.2:8080")));

        apply(ingress("default", "web", "app.example.com", "/api", "web", 8080));
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/x")).isEqualTo(404));
        assertThat(routing("app.example.com", "/api/v1")).isEqualTo(eps("127.0.0.2:8080"));

        client.network().v1().ingresses().inNamespace("default").withName("web").delete();
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/api/v1")).isEqualTo(404));
        assertThat(holder.current().hosts()).isEmpty();
    }

    @Test
    void aSnapshotReusesTheListsOfKindsWithoutEventsAndFollowsEveryChange() {
        apply(service("default", "web", 8080));
        apply(slice("default", "web-abc", "web", 8080, "127.0.0.2"));
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        start(null);
        ClusterState first = source.snapshot();
        ClusterState again = source.snapshot();
        assertThat(again.ingresses()).as("no event: the very same sorted list").isSameAs(first.ingresses());
        assertThat(again.endpointSlices()).isSameAs(first.endpointSlices());

        long before = changes.get();
        apply(slice("default", "web-abc", "web", 8080, "127.0.0.3"));
        await().until(() -> changes.get() > before);
        ClusterState after = source.snapshot();
        assertThat(after.endpointSlices()).as("a slice event: the list is made again").isNotSameAs(first.endpointSlices());
        assertThat(after.endpointSlices().get(0).getEndpoints().get(0).getAddresses()).containsExactly("127.0.0.3");
        assertThat(after.ingresses()).as("no Ingress event: the same list").isSameAs(first.ingresses());
        assertThat(after.services()).isSameAs(first.services());

        client.network().v1().ingresses().inNamespace("default").withName("web").delete();
        await().until(() -> source.snapshot().ingresses().isEmpty());
    }

    @Test
    void podIpChangesInEndpointSliceRouteOnlyToTheNewReadyPods() {
        apply(service("default", "web", 8080));
        apply(slice("default", "web-abc", "web", 8080, "127.0.0.2", "127.0.0.3"));
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        start(null);
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/"))
                .isEqualTo(eps("127.0.0.2:8080", "127.0.0.3:8080")));

        // Pods restarted: new IPs; one is still starting, one old Pod is terminating
        apply(slice("default", "web-abc", "web", 8080,
                ready("127.0.0.4"), notReady("127.0.0.5"), terminating("127.0.0.2")));
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/")).isEqualTo(eps("127.0.0.4:8080")));

        RoutingDecision.Forward f = (RoutingDecision.Forward) holder.current().decide("app.example.com", "/", "http");
        for (int i = 0; i < 10; i++) {
            assertThat(f.backend().pick()).isEqualTo(Endpoint.of("127.0.0.4", 8080));
        }

        // a second slice of the same Service adds endpoints; deleting the first removes its own
        apply(slice("default", "web-def", "web", 8080, "127.0.0.6"));
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/"))
                .isEqualTo(eps("127.0.0.4:8080", "127.0.0.6:8080")));
        client.discovery().v1().endpointSlices().inNamespace("default").withName("web-abc").delete();
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/")).isEqualTo(eps("127.0.0.6:8080")));
    }

    @Test
    void serviceDeletedAnswers503AndRecreatedServesAgain() {
        apply(service("default", "web", 8080));
        apply(slice("default", "web-abc", "web", 8080, "127.0.0.2"));
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        start(null);
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/")).isEqualTo(eps("127.0.0.2:8080")));

        client.services().inNamespace("default").withName("web").delete();
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/")).isEqualTo(503));

        apply(service("default", "web", 8080));
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/")).isEqualTo(eps("127.0.0.2:8080")));
    }

    @Test
    void endpointsObjectIsUsedWhenTheServiceHasNoSlice() {
        apply(service("default", "legacy", 9090));
        apply(endpoints("default", "legacy", 9090, List.of("127.0.0.7"), List.of("127.0.0.8")));
        apply(ingress("default", "legacy", "legacy.example.com", "/", "legacy", 9090));
        start(null);
        await().untilAsserted(() -> assertThat(routing("legacy.example.com", "/")).isEqualTo(eps("127.0.0.7:9090")));

        apply(endpoints("default", "legacy", 9090, List.of("127.0.0.9", "127.0.0.10"), List.of()));
        await().untilAsserted(() -> assertThat(routing("legacy.example.com", "/"))
                .isEqualTo(eps("127.0.0.9:9090", "127.0.0.10:9090")));

        client.endpoints().inNamespace("default").withName("legacy").delete();
        await().untilAsserted(() -> assertThat(routing("legacy.example.com", "/")).isEqualTo(503));
    }

    @Test
    void ingressClassChangesSelectAndDeselectIngresses() {
        apply(service("default", "web", 8080));
        apply(slice("default", "web-abc", "web", 8080, "127.0.0.2"));
        apply(ingressOfClass("default", "web", "sluice", "app.example.com", "web", 8080));
        start(null);
        // ingressClassName without an IngressClass object: ignored
        assertThat(routing("app.example.com", "/")).isEqualTo(404);

        apply(ingressClass("sluice", "k8s.io/ingress-nginx"));
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/")).isEqualTo(eps("127.0.0.2:8080")));

        apply(ingressClass("sluice", "example.com/other-controller"));
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/")).isEqualTo(404));

        apply(ingressClass("sluice", "k8s.io/ingress-nginx"));
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/")).isEqualTo(eps("127.0.0.2:8080")));

        client.network().v1().ingressClasses().withName("sluice").delete();
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/")).isEqualTo(404));

        // moving the Ingress to the class annotation selects it again
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/")).isEqualTo(eps("127.0.0.2:8080")));
    }

    @Test
    void secretsAreKeptAndFollowedExceptHelmReleasesAndServiceAccountTokens() {
        // certificates, basic-auth users and CA bundles (Opaque) can all be named by an Ingress
        apply(opaqueSecret("default", "basic-auth"));
        apply(typedSecret("default", "sh.helm.release.v1.app.v1", "helm.sh/release.v1"));
        apply(typedSecret("default", "default-token", "kubernetes.io/service-account-token"));
        apply(tlsSecret("default", "app-tls", "cert-1"));
        start(null);
        assertThat(secretNames()).containsExactlyInAnyOrder("app-tls", "basic-auth");

        apply(tlsSecret("default", "app-tls", "cert-2"));
        await().untilAsserted(() -> assertThat(source.snapshot().secrets())
                .filteredOn(s -> s.getMetadata().getName().equals("app-tls"))
                .singleElement().satisfies(s -> assertThat(certOf(s)).isEqualTo("cert-2")));

        apply(tlsSecret("default", "other-tls", "cert-3"));
        await().untilAsserted(() -> assertThat(secretNames())
                .containsExactlyInAnyOrder("app-tls", "basic-auth", "other-tls"));

        client.secrets().inNamespace("default").withName("basic-auth").delete();
        await().untilAsserted(() -> assertThat(secretNames()).containsExactlyInAnyOrder("app-tls", "other-tls"));
    }

    private static String certOf(Secret s) {
        return s.getStringData() != null && s.getStringData().containsKey("tls.crt")
                ? s.getStringData().get("tls.crt")
                : new String(java.util.Base64.getDecoder().decode(s.getData().get("tls.crt")));
    }

    private List<String> secretNames() {
        return source.snapshot().secrets().stream().map(s -> s.getMetadata().getName()).toList();
    }

    @Test
    void watchNamespaceHidesOtherNamespacesButNotIngressClasses() {
        for (String ns : List.of("team-a", "team-b")) {
            apply(service(ns, "web", 8080));
            apply(slice(ns, "web-abc", "web", 8080, ns.equals("team-a") ? "127.0.1.1" : "127.0.2.1"));
            apply(ingress(ns, "web", ns + ".example.com", "/", "web", 8080));
            apply(tlsSecret(ns, "tls", "cert"));
            apply(endpoints(ns, "web", 8080, List.of("127.0.3.1"), List.of()));
        }
        apply(ingressClass("nginx", "k8s.io/ingress-nginx"));
        start("team-a");
        await().untilAsserted(() -> assertThat(routing("team-a.example.com", "/")).isEqualTo(eps("127.0.1.1:8080")));
        assertThat(routing("team-b.example.com", "/")).isEqualTo(404);

        var state = source.snapshot();
        assertThat(state.ingresses()).extracting(i -> i.getMetadata().getNamespace()).containsExactly("team-a");
        assertThat(state.services()).extracting(i -> i.getMetadata().getNamespace()).containsExactly("team-a");
        assertThat(state.endpointSlices()).extracting(i -> i.getMetadata().getNamespace()).containsExactly("team-a");
        assertThat(state.endpoints()).extracting(i -> i.getMetadata().getNamespace()).containsExactly("team-a");
        assertThat(state.secrets()).extracting(i -> i.getMetadata().getNamespace()).containsExactly("team-a");
        assertThat(state.ingressClasses()).extracting(i -> i.getMetadata().getName()).containsExactly("nginx");

        // a change in the other namespace does not reach this controller at all
        long rebuilds = loop.rebuildCount();
        apply(slice("team-b", "web-abc", "web", 8080, "127.0.2.2"));
        apply(slice("team-a", "web-abc", "web", 8080, "127.0.1.2"));
        await().untilAsserted(() -> assertThat(routing("team-a.example.com", "/")).isEqualTo(eps("127.0.1.2:8080")));
        assertThat(source.snapshot().endpointSlices()).extracting(i -> i.getMetadata().getNamespace()).containsExactly("team-a");
        assertThat(loop.rebuildCount()).isGreaterThan(rebuilds);
    }

    @Test
    void aBurstOfEndpointUpdatesCoalescesIntoFewRebuilds() throws Exception {
        int slices = 10;
        int updatesPerSlice = 100;
        apply(service("default", "web", 8080));
        for (int s = 0; s < slices; s++) {
            apply(slice("default", "web-" + s, "web", 8080, "127.0." + s + ".0"));
        }
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        debounce = Duration.ofMillis(100);
        start(null);
        await().untilAsserted(() -> assertThat((Set<?>) routing("app.example.com", "/")).hasSize(slices));
        long before = loop.rebuildCount();
        long startedAt = System.nanoTime();

        // 1,000 Pod restarts in ten slices of one Service, as fast as the API server takes them
        ExecutorService pool = Executors.newFixedThreadPool(slices);
        List<Future<?>> done = new ArrayList<>();
        for (int s = 0; s < slices; s++) {
            int slice = s;
            done.add(pool.submit(() -> {
                for (int i = 1; i <= updatesPerSlice; i++) {
                    client.resource(slice("default", "web-" + slice, "web", 8080, "127.0." + slice + "." + i)).update();
                }
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
        pool.shutdown();
        Set<Endpoint> last = new HashSet<>();
        for (int s = 0; s < slices; s++) {
            last.add(Endpoint.of("127.0." + s + "." + updatesPerSlice, 8080));
        }
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(routing("app.example.com", "/")).isEqualTo(last));
        long rebuilds = loop.rebuildCount() - before;
        long elapsedMillis = (System.nanoTime() - startedAt) / 1_000_000;
        System.out.printf("burst: %d EndpointSlice updates in %d ms -> %d rebuilds%n", slices * updatesPerSlice,
                elapsedMillis, rebuilds);
        // every rebuild waits out the pause after the last one first (at least a tenth of the debounce,
        // SyncLoop.spacingNanos), and events that arrive during a pause or a rebuild never cost a
        // rebuild of their own: at most one rebuild per tenth of the debounce of the burst (plus
        // one already waiting when it began), however slow the machine
        assertThat(rebuilds).isBetween(1L, elapsedMillis / (debounce.toMillis() / 10) + 1);
    }

    @Test
    void aThousandUpdatesDuringOneRebuildCostOneMoreRebuild() throws Exception {
        apply(service("default", "web", 8080));
        apply(slice("default", "web-abc", "web", 8080, "127.0.0.1"));
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        java.util.concurrent.Semaphore gate = new java.util.concurrent.Semaphore(Integer.MAX_VALUE);
        translatorGate = gate;
        start(null);
        await().untilAsserted(() -> assertThat(routing("app.example.com", "/")).isEqualTo(eps("127.0.0.1:8080")));

        gate.drainPermits(); // the next rebuild blocks inside the translator
        long before = loop.rebuildCount();
        long changesBefore = changes.get();
        apply(slice("default", "web-abc", "web", 8080, "127.0.1.0"));
        await().until(() -> loop.rebuildCount() == before + 1);
        for (int i = 1; i <= 1000; i++) {
            apply(slice("default", "web-abc", "web", 8080, "127.0." + (1 + i / 250) + "." + (i % 250)));
        }
        String last = "127.0.5.0";
        await().until(() -> changes.get() == changesBefore + 1001); // every event delivered
        gate.release(Integer.MAX_VALUE / 2);

        await().untilAsserted(() -> assertThat(routing("app.example.com", "/")).isEqualTo(eps(last + ":8080")));
        await().during(Duration.ofMillis(300)).until(() -> true);
        // the blocked rebuild, then one for all 1,000 events that arrived meanwhile
        assertThat(loop.rebuildCount() - before).isEqualTo(2);
    }

    @Test
    void syncedOnlyAfterTheFirstListOfEveryKind() {
        apply(service("default", "web", 8080));
        ClusterSource s = new ClusterSource(client, null, () -> {});
        assertThat(s.hasSynced()).isFalse();
        assertThat(s.snapshot().services()).isEmpty();
        s.start();
        await().until(s::hasSynced);
        assertThat(s.snapshot().services()).hasSize(1);
        assertThat(s.unavailableKinds()).isEmpty();
        s.close();
    }
}
