package dev.sluice.controller.cli;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.testing.MockApiServer;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ingress-nginx's {@code --update-status} and {@code --sync-period} in cluster mode, against
 * fabric8's mock API server (CRUD, real watches): which requests Sluice sends, and the rebuilds
 * it makes without any object changing.
 */
class SluiceAppClusterFlagsTest {
    private static final String STATUS_PATCH = "PATCH /apis/networking.k8s.io/v1/namespaces/default/ingresses/web/status";

    @TempDir
    Path dir;

    @Test
    void updateStatusTrueWritesTheStatusOfServedIngresses() throws Exception {
        try (MockApiServer api = new MockApiServer(); KubernetesClient kubectl = api.adminClient()) {
            createWeb(kubectl);
            SluiceApp app = start(api, "--update-status=true");
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> api.requests().contains(STATUS_PATCH));
                assertThat(addresses(kubectl)).containsExactly("192.0.2.10");
            } finally {
                app.close();
            }
        }
    }

    @Test
    void updateStatusFalseNeverWritesStatusNorElectsALeader() throws Exception {
        try (MockApiServer api = new MockApiServer(); KubernetesClient kubectl = api.adminClient()) {
            createWeb(kubectl);
            SluiceApp app = start(api, "--update-status=false");
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> app.routes().isPublished());
                // the status is written within moments of the first table with true (see above);
                // with false nothing may come for a while after it
                await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10))
                        .until(() -> api.requests().stream().noneMatch(r -> r.contains("/status")
                                || r.contains("/leases")));
                assertThat(addresses(kubectl)).isEmpty();
                assertThat(app.registry().find("nginx_ingress_controller_leader_election_status").meters()).isEmpty();
            } finally {
                app.close();
            }
        }
    }

    @Test
    void syncPeriodRebuildsWithoutAnyChange() throws Exception {
        try (MockApiServer api = new MockApiServer(); KubernetesClient kubectl = api.adminClient()) {
            createWeb(kubectl);
            SluiceApp app = start(api, "--sync-period=200ms");
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> app.routes().isPublished());
                double first = rebuilds(app);

                // no object changes from here on: only the period asks for these rebuilds
                await().atMost(Duration.ofSeconds(10)).until(() -> rebuilds(app) >= first + 3);
            } finally {
                app.close();
            }
        }
    }

    private SluiceApp start(MockApiServer api, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--kubeconfig", api.writeKubeconfig(dir).toString(),
                "--http-port=0", "--https-port=0", "--healthz-port=0", "--bind-address=127.0.0.1",
                "--event-loops=1", "--access-log=off", "--shutdown-grace-period=0",
                "--publish-status-address=192.0.2.10", "--update-status-on-shutdown=false"));
        args.addAll(List.of(extra));
        SluiceApp app = new SluiceApp(Main.parse(args.toArray(String[]::new)));
        app.start();
        return app;
    }

    private static void createWeb(KubernetesClient kubectl) {
        kubectl.resource(service("default", "web", 8080)).create();
        kubectl.resource(slice("default", "web-abc", "web", 8080, "10.0.0.1")).create();
        kubectl.resource(ingress("default", "web", "", "/web", "web", 8080)).create();
    }

    private static List<String> addresses(KubernetesClient kubectl) {
        Ingress web = kubectl.network().v1().ingresses().inNamespace("default").withName("web").get();
        if (web.getStatus() == null || web.getStatus().getLoadBalancer() == null
                || web.getStatus().getLoadBalancer().getIngress() == null) {
            return List.of();
        }
        return web.getStatus().getLoadBalancer().getIngress().stream().map(i -> i.getIp()).toList();
    }

    private static double rebuilds(SluiceApp app) {
        return app.registry().get("sluice_table_rebuilds").counter().count();
    }
}
