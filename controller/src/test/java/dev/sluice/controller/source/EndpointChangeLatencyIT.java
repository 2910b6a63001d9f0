package dev.sluice.controller.source;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.sync.SyncLoop;
import dev.sluice.controller.testing.MockApiServer;
import dev.sluice.controller.translate.IngressTranslator;
import dev.sluice.controller.translate.TranslatorConfig;
import dev.sluice.gateway.route.Endpoint;
import dev.sluice.gateway.route.RouteTableHolder;
import dev.sluice.gateway.route.RoutingDecision;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Measurement, not a unit test (excluded from {@code mvn verify} by its {@code IT} suffix): how
 * long from an EndpointSlice write on the API server until the published route table sends
 * traffic to the new Pod IP — 100 changes, median and worst. It includes the API round trip, the
 * watch event, the sync loop's debounce ({@code -Dsluice.debounceMs}, default 50), the rebuild
 * with the real translator, and the publish.
 *
 * <p>Run: {@code mvn -q -o -pl controller -am test -Dtest=EndpointChangeLatencyIT
 * -Dsurefire.failIfNoSpecifiedTests=false [-Dsluice.debounceMs=50]}
 *
 * <p>Once the Netty GatewayServer is on main, measure up to the first proxied response from the
 * new backend instead of the publish.
 */
class EndpointChangeLatencyIT {

    @Test
    void endpointSliceChangeToPublishedTable() {
        long debounceMs = Long.getLong("sluice.debounceMs", 50);
        int changes = 100;
        try (MockApiServer api = new MockApiServer(); KubernetesClient sluice = api.newClient();
                KubernetesClient admin = api.adminClient()) {
            apply(admin, service("default", "web", 8080));
            apply(admin, slice("default", "web-abc", "web", 8080, "127.0.1.0"));
            apply(admin, ingress("default", "web", "app.example.com", "/", "web", 8080));

            RouteTableHolder holder = new RouteTableHolder();
            AtomicReference<Endpoint> waitingFor = new AtomicReference<>();
            AtomicReference<Thread> waiter = new AtomicReference<>();
            long[] seenAt = new long[1];
            // the problem sink runs right after each publish: the moment the new table is live
            ClusterSource[] source = new ClusterSource[1];
            SyncLoop loop = new SyncLoop(() -> source[0].snapshot(), new IngressTranslator(TranslatorConfig.DEFAULTS),
                    holder, problems -> {
                        Endpoint want = waitingFor.get();
                        if (want != null && endpoints(holder).contains(want)) {
                            seenAt[0] = System.nanoTime();
                            waitingFor.set(null);
                            LockSupport.unpark(waiter.get());
                        }
                    }, Duration.ofMillis(debounceMs), new SimpleMeterRegistry());
            source[0] = new ClusterSource(sluice, null, loop::markDirty);
            source[0].start();
            await().until(source[0]::hasSynced);
            loop.start();
            await().until(() -> endpoints(holder).contains(Endpoint.of("127.0.1.0", 8080)));

            long[] micros = new long[changes];
            waiter.set(Thread.currentThread());
            for (int i = 1; i <= changes; i++) {
                Endpoint next = Endpoint.of("127.0.1." + i, 8080);
                waitingFor.set(next);
                long start = System.nanoTime();
                apply(admin, slice("default", "web-abc", "web", 8080, next.address()));
                long deadline = start + Duration.ofSeconds(10).toNanos();
                while (waitingFor.get() != null && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
                }
                assertThat(waitingFor.get()).as("change %d not published within 10 s", i).isNull();
                micros[i - 1] = (seenAt[0] - start) / 1_000;
                assertThat(endpoints(holder)).containsExactly(next);
            }
            loop.close();
            source[0].close();

            long[] sorted = micros.clone();
            Arrays.sort(sorted);
            System.out.printf("EndpointSlice change -> published table, %d changes, debounce %d ms: "
                            + "median %.1f ms, p90 %.1f ms, worst %.1f ms%n",
                    changes, debounceMs, sorted[changes / 2] / 1000.0, sorted[changes * 9 / 10] / 1000.0,
                    sorted[changes - 1] / 1000.0);
        }
    }

    private static void apply(KubernetesClient client, HasMetadata o) {
        client.resource(o).unlock().createOr(NonDeletingOperation::update);
    }

    private static List<Endpoint> endpoints(RouteTableHolder holder) {
        RoutingDecision d = holder.current().decide("app.example.com", "/", "http");
        return d instanceof RoutingDecision.Forward f ? f.backend().endpoints() : List.of();
    }
}
