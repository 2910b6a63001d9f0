package dev.sluice.controller.status;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.service;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.source.ClusterSource;
import dev.sluice.controller.sync.SyncLoop;
import dev.sluice.controller.translate.IngressTranslator;
import dev.sluice.controller.translate.Problem;
import dev.sluice.controller.translate.TranslatorConfig;
import dev.sluice.gateway.route.RouteTableHolder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Problems found while translating become Kubernetes Events that {@code kubectl describe} shows. */
@EnableKubernetesMockClient(crud = true)
class IngressEventsTest {
    KubernetesClient client;

    private ClusterSource source;
    private IngressEvents events;
    private SyncLoop loop;

    @BeforeEach
    void startSource() {
        source = new ClusterSource(client, null, () -> {});
        source.start();
        await().until(source::hasSynced);
    }

    @AfterEach
    void stop() {
        if (loop != null) {
            loop.close();
        }
        if (events != null) {
            events.close();
        }
        source.close();
    }

    private HasMetadata apply(HasMetadata o) {
        return client.resource(o).unlock().createOr(NonDeletingOperation::update);
    }

    private List<Event> eventsIn(String ns) {
        return client.v1().events().inNamespace(ns).list().getItems();
    }

    private static Problem problem(String name, String message) {
        return new Problem("Ingress", "default", name, message);
    }

    @Test
    void aProblemBecomesAWarningEventOnTheIngress() {
        Ingress web = (Ingress) apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        await().until(() -> source.snapshot().ingresses().size() == 1);
        events = new IngressEvents(client, source::snapshot, "sluice-0");

        events.accept(List.of(problem("web", "path /id/(?<=x) is not a valid re2j regex: skipped")));

        await().untilAsserted(() -> assertThat(eventsIn("default")).hasSize(1));
        Event e = eventsIn("default").get(0);
        assertThat(e.getType()).isEqualTo("Warning");
        assertThat(e.getReason()).isEqualTo("SluiceConfigProblem");
        assertThat(e.getMessage()).isEqualTo("path /id/(?<=x) is not a valid re2j regex: skipped");
        assertThat(e.getSource().getComponent()).isEqualTo("sluice");
        assertThat(e.getReportingInstance()).isEqualTo("sluice-0");
        assertThat(e.getInvolvedObject().getKind()).isEqualTo("Ingress");
        assertThat(e.getInvolvedObject().getApiVersion()).isEqualTo("networking.k8s.io/v1");
        assertThat(e.getInvolvedObject().getNamespace()).isEqualTo("default");
        assertThat(e.getInvolvedObject().getName()).isEqualTo("web");
        assertThat(e.getInvolvedObject().getUid()).isNotNull().isEqualTo(web.getMetadata().getUid());
    }

    @Test
    void onlyNewProblemsAreReportedAndARecurringOneIsNewAgain() {
        apply(ingress("default", "web", "app.example.com", "/", "web", 8080));
        await().until(() -> source.snapshot().ingresses().size() == 1);
        events = new IngressEvents(client, source::snapshot, "sluice-0");
        Problem bad = problem("web", "unknown load-balance value \"fastest\": round_robin used");

        events.accept(List.of(bad));
        events.accept(List.of(bad));
        events.accept(List.of(bad, problem("web", "service default/web not found")));
        await().untilAsserted(() -> assertThat(eventsIn("default")).hasSize(2));

        events.accept(List.of());   // fixed
        events.accept(List.of(bad)); // broken again
        await().untilAsserted(() -> assertThat(eventsIn("default")).hasSize(3));
        // events go out one after the other: once a new problem's event is there, a repeat of
        // an already reported one would be there too
        events.accept(List.of(bad, problem("web", "a later problem")));
        await().atMost(Duration.ofSeconds(30)).until(() -> eventsIn("default").stream()
                .anyMatch(e -> e.getMessage().contains("a later problem")));
        assertThat(eventsIn("default")).hasSize(4);
    }

    @Test
    void eventsAreRateLimited() {
        events = new IngressEvents(client, source::snapshot, "sluice-0", 5, 0, Clock.systemUTC());
        List<Problem> many = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            many.add(problem("web-" + i, "service default/web-" + i + " not found"));
        }
        events.accept(many);
        await().untilAsserted(() -> assertThat(eventsIn("default")).hasSize(5));
        assertThat(events.droppedCount()).isEqualTo(15);
    }

    @Test
    void theSyncLoopReportsTranslatorProblemsAsEvents() {
        apply(service("default", "other", 80));
        apply(ingress("default", "web", "app.example.com", "/", "missing", 8080));
        await().until(() -> source.snapshot().ingresses().size() == 1);
        events = new IngressEvents(client, source::snapshot, "sluice-0");
        loop = new SyncLoop(source::snapshot, new IngressTranslator(TranslatorConfig.DEFAULTS), new RouteTableHolder(),
                events, Duration.ofMillis(20), new SimpleMeterRegistry());
        loop.start();

        await().untilAsserted(() -> assertThat(eventsIn("default"))
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.getInvolvedObject().getName()).isEqualTo("web");
                    assertThat(e.getMessage()).contains("service default/missing not found");
                }));
    }
}
