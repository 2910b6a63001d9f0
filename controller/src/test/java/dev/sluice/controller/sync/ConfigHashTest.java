package dev.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.controller.translate.ClusterState;
import dev.sluice.controller.translate.IngressTranslator;
import dev.sluice.controller.translate.TranslatorConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.gateway.admin.RoutesJson;
import dev.sluice.gateway.route.RouteTable;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code config_hash} follows ingress-nginx's: it changes when the configuration changes, not when
 * only the endpoints of a Service do (ingress-nginx applies those through Lua, without a reload).
 */
class ConfigHashTest {

    private static RouteTable table(String path, List<String> addresses) {
        return table(path, addresses, Map.of());
    }

    private static RouteTable table(String path, List<String> addresses, Map<String, String> annotations) {
        Map<String, String> all = new java.util.HashMap<>(annotations);
        all.put("kubernetes.io/ingress.class", "nginx");
        var slice = new EndpointSliceBuilder()
                .withNewMetadata().withNamespace("shop").withName("web-abc")
                .withLabels(Map.of("kubernetes.io/service-name", "web")).endMetadata()
                .withAddressType("IPv4")
                .addNewPort().withPort(8080).endPort();
        for (String a : addresses) {
            slice.addNewEndpoint().withAddresses(a).endEndpoint();
        }
        ClusterState state = new ClusterState(List.of(new IngressBuilder()
                        .withNewMetadata().withNamespace("shop").withName("web")
                        .withCreationTimestamp("2026-01-01T00:00:00Z")
                        .withAnnotations(all).endMetadata()
                        .withNewSpec().addNewRule().withHost("shop.test").withNewHttp().addNewPath()
                        .withPath(path).withPathType("Prefix").withNewBackend().withNewService().withName("web")
                        .withNewPort().withNumber(80).endPort().endService().endBackend().endPath()
                        .endHttp().endRule().endSpec().build()),
                List.of(),
                List.of(new ServiceBuilder().withNewMetadata().withNamespace("shop").withName("web").endMetadata()
                        .withNewSpec().addNewPort().withPort(80).withNewTargetPort(8080).endPort().endSpec().build()),
                List.of(slice.build()), List.of(), List.of());
        return new IngressTranslator(TranslatorConfig.DEFAULTS).translate(state, Instant.EPOCH).table();
    }

    @Test
    void anEndpointOnlyChangeKeepsTheHash() {
        RouteTable before = table("/api", List.of("10.0.0.1", "10.0.0.2"));
        RouteTable after = table("/api", List.of("10.0.0.3"));

        assertThat(after).isNotEqualTo(before); // the endpoints did change
        assertThat(SyncLoop.configHash(after)).isEqualTo(SyncLoop.configHash(before));
    }

    @Test
    void aConfigurationChangeChangesTheHash() {
        RouteTable before = table("/api", List.of("10.0.0.1"));
        RouteTable after = table("/shop", List.of("10.0.0.1"));

        assertThat(SyncLoop.configHash(after)).isNotEqualTo(SyncLoop.configHash(before));
    }

    @Test
    void anAnnotationChangeChangesTheHash() {
        // ingress-nginx reloads for any annotation change; drift alerts and reload panels rely on it
        RouteTable before = table("/api", List.of("10.0.0.1"));
        for (Map<String, String> changed : List.of(
                Map.of("nginx.ingress.kubernetes.io/proxy-read-timeout", "6"),
                Map.of("nginx.ingress.kubernetes.io/proxy-body-size", "8m"),
                Map.of("nginx.ingress.kubernetes.io/proxy-next-upstream-tries", "1"),
                Map.of("nginx.ingress.kubernetes.io/backend-protocol", "HTTPS"))) {
            assertThat(SyncLoop.configHash(table("/api", List.of("10.0.0.1"), changed))).as(changed.toString())
                    .isNotEqualTo(SyncLoop.configHash(before));
        }
    }

    @Test
    void equalTablesHashEqually() {
        assertThat(SyncLoop.configHash(table("/api", List.of("10.0.0.1"))))
                .isEqualTo(SyncLoop.configHash(table("/api", List.of("10.0.0.1"))))
                .isNotZero();
    }

    @Test
    void theHashIsOfTheJsonAnObjectMapperWouldWrite() throws Exception {
        // the bytes hashed were ObjectMapper's before the hash stopped needing one: same hash for the same table
        RouteTable table = table("/api", List.of("10.0.0.1"));
        var view = RoutesJson.renderWithoutEndpoints(table);
        view.remove("generation");
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(new ObjectMapper().writeValueAsBytes(view));

        assertThat(SyncLoop.configHash(table)).isEqualTo(ByteBuffer.wrap(digest).getLong() >>> 11);
    }
}
