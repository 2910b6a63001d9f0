package dev.sluice.controller.source;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.testing.ClusterProxy;
import dev.sluice.gateway.proxy.RawHttpClient;
import dev.sluice.gateway.proxy.TestBackend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Measurement, not a unit test (Surefire leaves out {@code *IT} classes; the {@code bench} profile
 * runs them through Failsafe): how
 * long from an EndpointSlice write on the API server until the NEW Pod actually answers requests
 * proxied by a real {@code GatewayServer} — 100 changes, median, p90 and worst. It includes the
 * API round trip, the watch event, the sync loop's debounce ({@code -Dsluice.debounceMs}, default
 * 50), the rebuild with the real translator, the publish, and the first proxied request that
 * reaches the new backend (polled with real HTTP requests, each on a new connection).
 *
 * <p>Ten backends on 127.0.2.1–10 play the Pods; each change moves the slice's only endpoint to
 * the next one. With {@code -Dsluice.fleet=N} the cluster also holds N other Ingresses, each with
 * its own Service and EndpointSlice, created before the measurement (N = 10,000 takes a few
 * minutes to create on the mock API server).
 *
 * <p>Run (docs/benchmarks.md): {@code mvn -q -o -Pbench -pl controller -am verify
 * -Dtest=EndpointChangeLatencyIT -Dsurefire.failIfNoSpecifiedTests=false [-Dsluice.debounceMs=50]
 * [-Dsluice.fleet=10000]}
 */
class EndpointChangeLatencyIT {
    private static final String HOST = "app.example.com";

    @Test
    void endpointSliceChangeToFirstRequestServedByTheNewPod() throws Exception {
        long debounceMs = Long.getLong("sluice.debounceMs", 50);
        int fleet = Integer.getInteger("sluice.fleet", 0);
        int changes = 100;
        List<TestBackend> pods = new ArrayList<>();
        try (ClusterProxy cluster = new ClusterProxy(Duration.ofMillis(debounceMs))) {
            for (int i = 1; i <= 10; i++) {
                pods.add(TestBackend.start("pod-" + i, "127.0.2." + i));
            }
            for (int i = 0; i < fleet; i++) {
                String ns = "team-" + (i % 100);
                cluster.apply(service(ns, "svc-" + i, 8080));
                cluster.apply(slice(ns, "svc-" + i + "-a", "svc-" + i, 8080, "10.1." + (i / 250) + "." + (i % 250 + 1)));
                cluster.apply(ingress(ns, "ing-" + i, "h-" + i + ".example.com", "/", "svc-" + i, 8080));
            }
            if (fleet > 0) {
                await().atMost(Duration.ofMinutes(5)).until(() -> cluster.holder().current().hosts().size() >= fleet);
            }
            cluster.apply(service("default", "web", 8080));
            cluster.apply(slice("default", "web-abc", "web", pods.get(0).endpoint().port(),
                    pods.get(0).endpoint().address()));
            cluster.apply(ingress("default", "web", HOST, "/", "web", 8080));
            await().atMost(Duration.ofSeconds(10)).until(() -> "pod-1".equals(pod(cluster)));

            long[] micros = new long[changes];
            long[] writeMicros = new long[changes];
            for (int i = 1; i <= changes; i++) {
                TestBackend next = pods.get(i % pods.size());
                long start = System.nanoTime();
                cluster.apply(slice("default", "web-abc", "web", next.endpoint().port(), next.endpoint().address()));
                writeMicros[i - 1] = (System.nanoTime() - start) / 1_000;
                long deadline = start + Duration.ofSeconds(10).toNanos();
                String served;
                do {
                    served = pod(cluster);
                } while (!next.name().equals(served) && System.nanoTime() < deadline);
                assertThat(served).as("change %d not served within 10 s", i).isEqualTo(next.name());
                micros[i - 1] = (System.nanoTime() - start) / 1_000;
            }

            long[] sorted = micros.clone();
            Arrays.sort(sorted);
            long[] writes = writeMicros.clone();
            Arrays.sort(writes);
            System.out.printf("EndpointSlice change -> first request served by the new Pod, %d changes, debounce %d ms, "
                            + "%d other Ingresses, %d rebuilds: median %.1f ms, p90 %.1f ms, worst %.1f ms "
                            + "(of which the write to the API server, until it answered: median %.1f ms, worst %.1f ms)%n",
                    changes, debounceMs, fleet, cluster.loop().rebuildCount(), sorted[changes / 2] / 1000.0,
                    sorted[changes * 9 / 10] / 1000.0, sorted[changes - 1] / 1000.0, writes[changes / 2] / 1000.0,
                    writes[changes - 1] / 1000.0);
        } finally {
            for (TestBackend p : pods) {
                p.close();
            }
        }
    }

    private static String pod(ClusterProxy cluster) {
        RawHttpClient.Response r = cluster.get(HOST, "/");
        return r.status() == 200 ? r.header("X-Pod") : null;
    }
}
