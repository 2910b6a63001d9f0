package dev.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.controller.translate.ClusterState;
import dev.sluice.controller.translate.IngressTranslator;
import dev.sluice.controller.translate.TranslatorConfig;
import dev.sluice.gateway.observe.ControllerMetrics;
import dev.sluice.gateway.observe.MetricsConfig;
import dev.sluice.gateway.route.RouteTableHolder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The sync loop skips hashing when the translation says only endpoint addresses changed, and the
 * reload metrics read as if it had hashed: {@code config_hash} is always the hash of the live
 * table, {@code success} counts only configuration changes.
 */
class SyncLoopConfigurationTest {
    private static final String P = MetricsConfig.PREFIX;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RouteTableHolder holder = new RouteTableHolder();
    private final AtomicReference<ClusterState> state = new AtomicReference<>();
    private final AtomicBoolean failing = new AtomicBoolean();
    private final IngressTranslator translator = new IngressTranslator(TranslatorConfig.DEFAULTS);
    private final Ingress ingress = ingress("/api");
    private final Service service = new ServiceBuilder().withNewMetadata().withNamespace("shop").withName("web")
            .endMetadata().withNewSpec().addNewPort().withPort(80).withNewTargetPort(8080).endPort().endSpec().build();
    private final SyncLoop loop;

    private final java.util.concurrent.atomic.AtomicInteger configurationListenerRuns =
            new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger publishListenerRuns =
            new java.util.concurrent.atomic.AtomicInteger();

    SyncLoopConfigurationTest() {
        holder.beforePublish(t -> publishListenerRuns.incrementAndGet());
        holder.beforeConfigurationChange(t -> configurationListenerRuns.incrementAndGet());
        loop = new SyncLoop(state::get, (s, now) -> {
            if (failing.get()) {
                throw new IllegalStateException("translation failed");
            }
            return translator.translate(s, now);
        }, Clock.fixed(Instant.EPOCH, ZoneOffset.UTC), holder, problems -> { }, Duration.ofMillis(1), registry);
        loop.reportTo(new ControllerMetrics(registry, MetricsConfig.DEFAULTS, Clock.systemUTC(), "1", "b", "r"));
    }

    private static Ingress ingress(String path) {
        return new IngressBuilder()
                .withNewMetadata().withNamespace("shop").withName("web").withCreationTimestamp("2026-01-01T00:00:00Z")
                .withAnnotations(Map.of("kubernetes.io/ingress.class", "nginx")).endMetadata()
                .withNewSpec().addNewRule().withHost("shop.test").withNewHttp().addNewPath()
                .withPath(path).withPathType("Prefix").withNewBackend().withNewService().withName("web")
                .withNewPort().withNumber(80).endPort().endService().endBackend().endPath()
                .endHttp().endRule().endSpec().build();
    }

    private static EndpointSlice slice(String... addresses) {
        var slice = new EndpointSliceBuilder()
                .withNewMetadata().withNamespace("shop").withName("web-abc")
                .withLabels(Map.of("kubernetes.io/service-name", "web")).endMetadata()
                .withAddressType("IPv4")
                .addNewPort().withPort(8080).endPort();
        for (String a : addresses) {
            slice.addNewEndpoint().withAddresses(a).endEndpoint();
        }
        return slice.build();
    }

    private void objects(Ingress ing, EndpointSlice slice) {
        state.set(new ClusterState(List.of(ing), List.of(), List.of(service), List.of(slice), List.of(), List.of()));
    }

    private double gauge(String name) {
        return registry.get(P + name).gauge().value();
    }

    private double reloads() {
        return registry.get(P + "success").counter().count();
    }

    /** The hash of the live table, computed the long way. */
    private double liveHash() {
        return SyncLoop.configHash(holder.current());
    }

    @Test
    void anEndpointOnlyChangeIsPublishedWithoutAReloadAndTheHashStaysTheLiveTables() {
        objects(ingress, slice("10.0.0.1"));
        loop.rebuildOrKeep();
        assertThat(reloads()).isEqualTo(1);
        assertThat(gauge("config_hash")).isEqualTo(liveHash()).isNotZero();

        objects(ingress, slice("10.0.0.2", "10.0.0.3"));
        loop.rebuildOrKeep();

        assertThat(holder.generation()).as("published").isEqualTo(2);
        assertThat(publishListenerRuns).hasValue(2);
        assertThat(configurationListenerRuns).as("the same configuration: its listeners not run again").hasValue(1);
        assertThat(reloads()).as("no reload").isEqualTo(1);
        assertThat(gauge("config_hash")).isEqualTo(liveHash());
        assertThat(gauge("config_last_reload_successful")).isEqualTo(1);
    }

    @Test
    void aConfigurationChangeAfterEndpointChangesIsAReloadWithTheNewHash() {
        objects(ingress, slice("10.0.0.1"));
        loop.rebuildOrKeep();
        objects(ingress, slice("10.0.0.2"));
        loop.rebuildOrKeep();
        double before = gauge("config_hash");

        objects(ingress("/shop"), slice("10.0.0.2"));
        loop.rebuildOrKeep();

        assertThat(reloads()).isEqualTo(2);
        assertThat(configurationListenerRuns).hasValue(2);
        assertThat(gauge("config_hash")).isEqualTo(liveHash()).isNotEqualTo(before);
    }

    @Test
    void afterAFailedRebuildTheNextPublishSetsTheHashAgainEvenWhenOnlyEndpointsChanged() {
        objects(ingress, slice("10.0.0.1"));
        loop.rebuildOrKeep();
        failing.set(true);
        loop.rebuildOrKeep();
        assertThat(gauge("config_hash")).as("a failure zeroes it, as ingress-nginx").isZero();

        failing.set(false);
        objects(ingress, slice("10.0.0.2"));
        loop.rebuildOrKeep();

        assertThat(gauge("config_hash")).isEqualTo(liveHash()).isNotZero();
        assertThat(gauge("config_last_reload_successful")).isEqualTo(1);
        assertThat(configurationListenerRuns).as("after a failure nothing is assumed unchanged").hasValue(2);
    }
}
