package dev.sluice.controller.testing;

import dev.sluice.controller.source.ClusterSource;
import dev.sluice.controller.sync.SyncLoop;
import dev.sluice.controller.translate.IngressTranslator;
import dev.sluice.controller.translate.TranslatorConfig;
import dev.sluice.gateway.proxy.GatewayServer;
import dev.sluice.gateway.proxy.RawHttpClient;
import dev.sluice.gateway.route.RouteTableHolder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;

/**
 * Cluster mode end to end without {@code SluiceApp}: fabric8's mock API server, a
 * {@link ClusterSource} watching it, the {@link SyncLoop} with the real translator, and a real
 * {@link GatewayServer} on 127.0.0.1 (ports 0) serving the published table. {@link #apply} plays
 * {@code kubectl apply}.
 */
public final class ClusterProxy implements AutoCloseable {
    private final MockApiServer api = new MockApiServer();
    private final KubernetesClient sluice = api.newClient();
    private final KubernetesClient admin = api.adminClient();
    private final RouteTableHolder holder = new RouteTableHolder();
    private final SyncLoop loop;
    private final ClusterSource source;
    private final GatewayServer gateway;

    public ClusterProxy(Duration debounce) throws InterruptedException {
        loop = new SyncLoop(this::sourceSnapshot, new IngressTranslator(TranslatorConfig.DEFAULTS), holder,
                problems -> {}, debounce, new SimpleMeterRegistry());
        source = new ClusterSource(sluice, null, loop::markDirty)
                .watchReferencedConfigMaps(ing -> dev.sluice.controller.translate.IngressAnnotations
                        .customHeadersConfigMap(ing, TranslatorConfig.DEFAULT_ANNOTATIONS_PREFIX));
        gateway = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(0)
                .eventLoops(1).build();
        source.start();
        if (!source.awaitSynced(Duration.ofSeconds(10))) {
            throw new IllegalStateException("informers did not sync");
        }
        loop.start();
        gateway.start();
    }

    private dev.sluice.controller.translate.ClusterState sourceSnapshot() {
        return source.snapshot();
    }

    /** Creates or replaces {@code o} on the API server. */
    public void apply(HasMetadata o) {
        admin.resource(o).unlock().createOr(NonDeletingOperation::update);
    }

    public KubernetesClient admin() {
        return admin;
    }

    public RouteTableHolder holder() {
        return holder;
    }

    public SyncLoop loop() {
        return loop;
    }

    public ClusterSource source() {
        return source;
    }

    public GatewayServer gateway() {
        return gateway;
    }

    /** One {@code GET path} with {@code Host: host} on a fresh connection. */
    public RawHttpClient.Response get(String host, String path) {
        try (RawHttpClient c = RawHttpClient.connect(gateway.httpPort())) {
            return c.exchange("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
        }
    }

    @Override
    public void close() {
        gateway.close();
        loop.close();
        source.close();
        sluice.close();
        api.close();
    }
}
