package dev.sluice.controller.source;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.notReady;
import static dev.sluice.controller.testing.Fixtures.ready;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static dev.sluice.controller.testing.Fixtures.terminating;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.testing.ClusterProxy;
import dev.sluice.gateway.proxy.RawHttpClient;
import dev.sluice.gateway.proxy.TestBackend;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Cluster mode through the real proxy: objects written to the (mock) API server, watched by
 * {@link ClusterSource}, translated by the sync loop, and served by a {@code GatewayServer} to real
 * backends on 127.0.0.x. The Service's port {@code http} is 8080; each EndpointSlice carries the
 * port its backend really listens on (as a named {@code targetPort} allows).
 */
class ClusterModeProxyTest {
    private static final String HOST = "app.example.com";
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T c) {
        closeables.add(c);
        return c;
    }

    @Test
    void afterThePodIpMovesEveryRequestGoesToTheNewPodOnly() throws Exception {
        TestBackend a = track(TestBackend.start("pod-a", "127.0.0.2"));
        TestBackend b = track(TestBackend.start("pod-b", "127.0.0.3"));
        ClusterProxy cluster = track(new ClusterProxy(Duration.ofMillis(20)));
        cluster.apply(service("default", "web", 8080));
        cluster.apply(sliceFor("web-abc", a));
        cluster.apply(ingress("default", "web", HOST, "/", "web", 8080));

        await().atMost(Duration.ofSeconds(10)).until(() -> "pod-a".equals(pod(cluster.get(HOST, "/"))));

        cluster.apply(sliceFor("web-abc", b));
        await().atMost(Duration.ofSeconds(10)).until(() -> "pod-b".equals(pod(cluster.get(HOST, "/"))));

        int aBefore = a.requestsReceived();
        for (int i = 0; i < 50; i++) {
            RawHttpClient.Response r = cluster.get(HOST, "/req/" + i);
            assertThat(r.status()).as("request %d", i).isEqualTo(200);
            assertThat(pod(r)).as("request %d", i).isEqualTo("pod-b");
        }
        assertThat(a.requestsReceived()).isEqualTo(aBefore);
    }

    @Test
    void notReadyAndTerminatingEndpointsNeverReceiveTraffic() throws Exception {
        TestBackend live = track(TestBackend.start("pod-live", "127.0.0.2"));
        TestBackend starting = track(TestBackend.start("pod-starting", "127.0.0.3"));
        TestBackend leaving = track(TestBackend.start("pod-leaving", "127.0.0.4"));
        ClusterProxy cluster = track(new ClusterProxy(Duration.ofMillis(20)));
        cluster.apply(service("default", "web", 8080));
        cluster.apply(slice("default", "web-live", "web", live.endpoint().port(), ready(live.endpoint().address())));
        cluster.apply(slice("default", "web-starting", "web", starting.endpoint().port(),
                notReady(starting.endpoint().address())));
        cluster.apply(slice("default", "web-leaving", "web", leaving.endpoint().port(),
                terminating(leaving.endpoint().address())));
        cluster.apply(ingress("default", "web", HOST, "/", "web", 8080));

        await().atMost(Duration.ofSeconds(10)).until(() -> cluster.get(HOST, "/").status() == 200);
        for (int i = 0; i < 50; i++) {
            assertThat(pod(cluster.get(HOST, "/"))).as("request %d", i).isEqualTo("pod-live");
        }
        assertThat(starting.requestsReceived()).isZero();
        assertThat(leaving.requestsReceived()).isZero();

        // the live Pod starts terminating (no ready endpoint left: 503), then the starting one
        // becomes ready: traffic follows
        cluster.apply(slice("default", "web-live", "web", live.endpoint().port(), terminating(live.endpoint().address())));
        await().atMost(Duration.ofSeconds(10)).until(() -> cluster.get(HOST, "/").status() == 503);
        cluster.apply(slice("default", "web-starting", "web", starting.endpoint().port(),
                ready(starting.endpoint().address())));
        await().atMost(Duration.ofSeconds(10)).until(() -> "pod-starting".equals(pod(cluster.get(HOST, "/"))));
        int liveBefore = live.requestsReceived();
        for (int i = 0; i < 50; i++) {
            assertThat(pod(cluster.get(HOST, "/"))).as("request %d", i).isEqualTo("pod-starting");
        }
        assertThat(live.requestsReceived()).isEqualTo(liveBefore);
        assertThat(leaving.requestsReceived()).isZero();
    }

    private static EndpointSlice sliceFor(String name, TestBackend backend) {
        return slice("default", name, "web", backend.endpoint().port(), backend.endpoint().address());
    }

    private static String pod(RawHttpClient.Response r) {
        return r.header("X-Pod");
    }
}
