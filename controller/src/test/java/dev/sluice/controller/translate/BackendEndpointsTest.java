package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.request.Endpoint;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressServiceBackendBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A Service's endpoints: every ready address of its slices, once each, in address order. */
class BackendEndpointsTest {

    private static EndpointSlice slice(String name, String... addresses) {
        var b = new EndpointSliceBuilder()
                .withNewMetadata().withNamespace("shop").withName(name)
                .withLabels(Map.of(BackendResolver.SERVICE_NAME_LABEL, "web")).endMetadata()
                .withAddressType("IPv4").addNewPort().withPort(8080).endPort();
        for (String a : addresses) {
            b.addNewEndpoint().withAddresses(a).endEndpoint();
        }
        return b.build();
    }

    private static List<Endpoint> endpoints(EndpointSlice... slices) {
        ClusterState state = new ClusterState(List.of(), List.of(),
                List.of(new ServiceBuilder().withNewMetadata().withNamespace("shop").withName("web").endMetadata()
                        .withNewSpec().addNewPort().withPort(80).endPort().endSpec().build()),
                List.of(slices), List.of(), List.of());
        return new BackendResolver(state).resolve("shop", new IngressServiceBackendBuilder().withName("web")
                .withNewPort().withNumber(80).endPort().build()).backend().endpoints();
    }

    @Test
    void aPodInTwoSlicesIsOneEndpointAndTheOrderIsTheAddresses() {
        assertThat(endpoints(slice("web-a", "10.0.0.2", "10.0.0.1"), slice("web-b", "10.0.0.1", "10.0.0.3",
                "10.0.0.2")))
                .containsExactly(Endpoint.of("10.0.0.1", 8080), Endpoint.of("10.0.0.2", 8080),
                        Endpoint.of("10.0.0.3", 8080));
    }

    @Test
    void oneAndNoEndpoints() {
        assertThat(endpoints(slice("web-a", "10.0.0.9"))).containsExactly(Endpoint.of("10.0.0.9", 8080));
        assertThat(endpoints(slice("web-a"))).isEmpty();
    }
}
