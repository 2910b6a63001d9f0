package dev.sluice.controller.source;

import static dev.sluice.controller.testing.Fixtures.endpoints;
import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.ingressClass;
import static dev.sluice.controller.testing.Fixtures.ingressOfClass;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.sync.SyncLoop;
import dev.sluice.controller.testing.MockApiServer;
import dev.sluice.controller.translate.IngressTranslator;
import dev.sluice.controller.translate.TranslatorConfig;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RouteTableHolder;
import dev.sluice.gateway.route.RoutingDecision;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * API server trouble: the API server going away and coming back, expired watches (410 Gone), and
 * RBAC that refuses optional kinds. Sluice keeps serving the last good table and converges.
 */
class ClusterSourceResilienceTest {
    private MockApiServer api;
    private KubernetesClient sluiceClient;
    private KubernetesClient admin;
    private ClusterSource source;
    private SyncLoop loop;
    private final RouteTableHolder holder = new RouteTableHolder();

    @BeforeEach
    void setUp() {
        api = new MockApiServer();
        sluiceClient = api.newClient();
        admin = api.adminClient();
    }

    @AfterEach
    void tearDown() {
        if (loop != null) {
            loop.close();
        }
        if (source != null) {
            source.close();
        }
        sluiceClient.close();
        admin.close();
        api.close();
    }

    private void start() {
        loop = new SyncLoop(() -> source.snapshot(), new IngressTranslator(TranslatorConfig.DEFAULTS), holder,
                problems -> {}, Duration.ofMillis(20), new SimpleMeterRegistry());
        source = new ClusterSource(sluiceClient, null, loop::markDirty);
        source.start();
        await().until(source::hasSynced);
        loop.start();
        await().until(holder::isPublished);
    }

    private void apply(HasMetadata o) {
        // the test's own writes: the mock API server can answer an update racing its watch
        // bookkeeping with 409 Conflict (seen once in a full run); a real client retries those
        for (int attempt = 1; ; attempt++) {
            try {
                admin.resource(o).unlock().createOr(NonDeletingOperation::update);
                return;
            } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                if (e.getCode() != 409 || attempt == 5) {
                    throw e;
                }
            }
        }
    }

    private Object routing(String host) {
        RoutingDecision d = holder.current().decide(host, "/", "http");
        return d instanceof RoutingDecision.Forward f ? Set.copyOf(f.backend().endpoints())
                : ((RoutingDecision.Respond) d).status();
    }

    @Test
    void apiServerDownKeepsTheLastTableAndConvergesAfterItReturns() {
        apply(service("default", "web", 8080));
        apply(slice("default", "web-abc", "web", 8080, "127.0.0.2"));
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        start();
        await().untilAsserted(() -> assertThat(routing("app.example.com")).isEqualTo(Set.of(Endpoint.of("127.0.0.2", 8080))));
        RouteTable before = holder.current();

        api.stop();
        int refusedBefore = api.refusedConnections();
        // the cluster moves on while Sluice cannot see it. (No deletion here: a real API server
        // replays it from its watch cache when the watch resumes, or answers 410 Gone and the
        // informer re-lists; the mock does neither on resume, so deletions are covered by
        // expiredWatchesRelistAndConverge, where it answers 410.)
        apply(slice("default", "web-abc", "web", 8080, "127.0.0.3"));
        apply(ingress("default", "new", "new.example.com", "/", "web", 8080));

        // nothing is cleared or reverted while the API server is away, however often Sluice
        // tries to reach it
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            assertThat(holder.current()).as("the published table").isSameAs(before);
            assertThat(source.snapshot().ingresses()).as("the Ingresses Sluice knows").hasSize(1);
            return api.refusedConnections() >= refusedBefore + 3;
        });

        long restartedAt = System.nanoTime();
        api.restart();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(routing("app.example.com")).isEqualTo(Set.of(Endpoint.of("127.0.0.3", 8080)));
            assertThat(routing("new.example.com")).isEqualTo(Set.of(Endpoint.of("127.0.0.3", 8080)));
        });
        System.out.printf("converged %d ms after the API server came back%n", (System.nanoTime() - restartedAt) / 1_000_000);

        // and the watches are live again
        apply(slice("default", "web-abc", "web", 8080, "127.0.0.4"));
        await().untilAsserted(() -> assertThat(routing("app.example.com")).isEqualTo(Set.of(Endpoint.of("127.0.0.4", 8080))));
    }

    @Test
    void expiredWatchesRelistAndConverge() {
        apply(service("default", "web", 8080));
        apply(slice("default", "web-abc", "web", 8080, "127.0.0.2"));
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        apply(ingress("default", "old", "old.example.com", "/", "web", 8080));
        start();
        await().untilAsserted(() -> assertThat(routing("old.example.com")).isEqualTo(Set.of(Endpoint.of("127.0.0.2", 8080))));

        api.stop();
        apply(slice("default", "web-abc", "web", 8080, "127.0.0.3"));
        admin.network().v1().ingresses().inNamespace("default").withName("old").delete();
        api.expireWatches();
        api.restart();
        // 410 Gone → the informers re-list: the update arrives and the deletion is noticed
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(routing("app.example.com")).isEqualTo(Set.of(Endpoint.of("127.0.0.3", 8080)));
            assertThat(routing("old.example.com")).isEqualTo(404);
        });
        assertThat(api.expiredSomeWatch()).isTrue();
        apply(slice("default", "web-abc", "web", 8080, "127.0.0.4"));
        await().untilAsserted(() -> assertThat(routing("app.example.com")).isEqualTo(Set.of(Endpoint.of("127.0.0.4", 8080))));
    }

    @Test
    void withoutEndpointSliceAccessEndpointsAreUsed() {
        api.forbid("/apis/discovery.k8s.io/");
        apply(service("default", "web", 8080));
        apply(slice("default", "web-abc", "web", 8080, "127.0.0.2"));
        apply(endpoints("default", "web", 8080, List.of("127.0.0.5"), List.of()));
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        start();
        assertThat(source.unavailableKinds()).containsExactly("EndpointSlice");
        await().untilAsserted(() -> assertThat(routing("app.example.com")).isEqualTo(Set.of(Endpoint.of("127.0.0.5", 8080))));

        apply(endpoints("default", "web", 8080, List.of("127.0.0.6"), List.of()));
        await().untilAsserted(() -> assertThat(routing("app.example.com")).isEqualTo(Set.of(Endpoint.of("127.0.0.6", 8080))));
    }

    @Test
    void withoutIngressClassAccessOnlyTheAnnotationSelects() {
        api.forbid("/apis/networking.k8s.io/v1/ingressclasses");
        apply(ingressClass("nginx", "k8s.io/ingress-nginx"));
        apply(service("default", "web", 8080));
        apply(slice("default", "web-abc", "web", 8080, "127.0.0.2"));
        apply(ingress("default", "by-annotation", "a.example.com", "/", "web", 8080));
        apply(ingressOfClass("default", "by-class-name", "nginx", "b.example.com", "web", 8080));
        start();
        assertThat(source.unavailableKinds()).containsExactly("IngressClass");
        await().untilAsserted(() -> assertThat(routing("a.example.com")).isEqualTo(Set.of(Endpoint.of("127.0.0.2", 8080))));
        assertThat(routing("b.example.com")).isEqualTo(404);
    }

    @Test
    void requiredKindsAreRetriedUntilAllowed() {
        api.forbid("/apis/networking.k8s.io/v1/ingresses");
        ClusterSource s = new ClusterSource(sluiceClient, null, () -> {});
        s.start();
        // it keeps asking, and is not synced meanwhile
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            assertThat(s.hasSynced()).as("synced").isFalse();
            return api.requests().stream().filter(r -> r.startsWith("GET /apis/networking.k8s.io/v1/ingresses")).count() >= 3;
        });
        assertThat(s.unavailableKinds()).isEmpty();
        s.close();
    }
}
