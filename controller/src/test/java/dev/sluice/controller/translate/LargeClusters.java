package dev.sluice.controller.translate;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPath;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPathBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds big synthetic clusters: Ingress {@code i} in namespace {@code ns-(i % 50)} names host
 * {@code host-i.test} with three paths ({@code /api} → {@code svc-i:80}, {@code /static} →
 * {@code svc-i:80}, Exact {@code /health} → {@code svc-(i+1):80}); every tenth Ingress uses
 * {@code use-regex} with a path {@code /v[0-9]+/items} instead of {@code /static}. Service
 * {@code svc-k} has one EndpointSlice with two endpoints {@code 127.(k/250).(k%250).1|2:8080}.
 */
final class LargeClusters {
    private LargeClusters() {}

    static String namespace(int i) {
        return "ns-" + (i % 50);
    }

    static ClusterState of(int ingresses) {
        List<Ingress> ings = new ArrayList<>(ingresses);
        List<Service> services = new ArrayList<>(ingresses + 1);
        List<EndpointSlice> slices = new ArrayList<>(ingresses + 1);
        for (int i = 0; i < ingresses; i++) {
            String ns = namespace(i);
            boolean regex = i % 10 == 0;
            List<HTTPIngressPath> paths = List.of(
                    path("/api", "Prefix", "svc-" + i),
                    regex ? path("/v[0-9]+/items", "ImplementationSpecific", "svc-" + i)
                            : path("/static", "Prefix", "svc-" + i),
                    path("/health", "Exact", "svc-" + (i + 1)));
            ings.add(new IngressBuilder()
                    .withNewMetadata().withNamespace(ns).withName("ing-" + i)
                    .withCreationTimestamp(Instant.ofEpochSecond(1_700_000_000L + i).toString())
                    .withAnnotations(regex ? Map.of("kubernetes.io/ingress.class", "nginx",
                            "nginx.ingress.kubernetes.io/use-regex", "true")
                            : Map.of("kubernetes.io/ingress.class", "nginx"))
                    .endMetadata()
                    .withNewSpec().addNewRule().withHost("host-" + i + ".test").withNewHttp().withPaths(paths)
                    .endHttp().endRule().endSpec()
                    .build());
        }
        for (int i = 0; i < ingresses; i++) {
            // Ingress i names svc-i and svc-(i+1), both in its own namespace
            for (int svc : new int[] {i, i + 1}) {
                services.add(new ServiceBuilder()
                        .withNewMetadata().withNamespace(namespace(i)).withName("svc-" + svc).endMetadata()
                        .withNewSpec().addNewPort().withPort(80).endPort().endSpec().build());
                slices.add(new EndpointSliceBuilder()
                        .withNewMetadata().withNamespace(namespace(i)).withName("svc-" + svc + "-abc")
                        .withLabels(Map.of("kubernetes.io/service-name", "svc-" + svc)).endMetadata()
                        .withAddressType("IPv4")
                        .addNewPort().withPort(8080).endPort()
                        .addNewEndpoint().withAddresses(address(svc, 2)).endEndpoint()
                        .addNewEndpoint().withAddresses(address(svc, 1)).endEndpoint()
                        .build());
            }
        }
        return new ClusterState(ings, List.of(), services, slices, List.of(), List.of());
    }

    static String address(int i, int last) {
        return "127." + (i / 250) + "." + (i % 250) + "." + last;
    }

    private static HTTPIngressPath path(String path, String type, String service) {
        return new HTTPIngressPathBuilder().withPath(path).withPathType(type)
                .withNewBackend().withNewService().withName(service).withNewPort().withNumber(80).endPort()
                .endService().endBackend().build();
    }
}
