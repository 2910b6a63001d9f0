package dev.sluice.controller.translate;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import java.util.List;

/**
 * A read-only snapshot of every Kubernetes object the translator looks at, from either source
 * (informer caches in cluster mode, files in manifest mode). Legacy Ingress forms are already
 * converted to {@code networking.k8s.io/v1} by the source. The objects must not be mutated.
 *
 * <p>ConfigMaps are those the translator may read: in cluster mode only the ones the
 * {@code --configmap} / {@code --tcp-services-configmap} / {@code --udp-services-configmap} flags
 * name and those the global ConfigMap names ({@code add-headers}, {@code proxy-set-headers}), in
 * manifest mode every ConfigMap of the files.
 */
public record ClusterState(
        List<Ingress> ingresses,
        List<IngressClass> ingressClasses,
        List<Service> services,
        List<EndpointSlice> endpointSlices,
        List<Endpoints> endpoints,
        List<Secret> secrets,
        List<ConfigMap> configMaps) {

    public static final ClusterState EMPTY =
            new ClusterState(List.of(), List.of(), List.of(), List.of(), List.of(), List.of(), List.of());

    public ClusterState {
        ingresses = List.copyOf(ingresses);
        ingressClasses = List.copyOf(ingressClasses);
        services = List.copyOf(services);
        endpointSlices = List.copyOf(endpointSlices);
        endpoints = List.copyOf(endpoints);
        secrets = List.copyOf(secrets);
        configMaps = List.copyOf(configMaps);
    }

    /** A snapshot without ConfigMaps. */
    public ClusterState(List<Ingress> ingresses, List<IngressClass> ingressClasses, List<Service> services,
            List<EndpointSlice> endpointSlices, List<Endpoints> endpoints, List<Secret> secrets) {
        this(ingresses, ingressClasses, services, endpointSlices, endpoints, secrets, List.of());
    }
}
