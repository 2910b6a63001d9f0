package dev.sluice.controller.source;

import dev.sluice.controller.translate.ClusterState;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The objects Sluice keeps from one manifest file, in document order: Ingress (always
 * {@code networking.k8s.io/v1}; legacy forms are converted), IngressClass, Service, Endpoints,
 * EndpointSlice, Secret and ConfigMap. Namespaces are filled in ({@code default} when missing);
 * {@code creationTimestamp} is left as written (maybe missing) until {@link #toClusterState}.
 *
 * @param fileName the file as named to the parser
 * @param objects  the kept objects in document order
 */
public record ParsedManifest(String fileName, List<HasMetadata> objects) {

    public ParsedManifest {
        objects = List.copyOf(objects);
    }

    public List<Ingress> ingresses() {
        return only(Ingress.class);
    }

    public List<IngressClass> ingressClasses() {
        return only(IngressClass.class);
    }

    public List<Service> services() {
        return only(Service.class);
    }

    public List<Endpoints> endpoints() {
        return only(Endpoints.class);
    }

    public List<EndpointSlice> endpointSlices() {
        return only(EndpointSlice.class);
    }

    public List<Secret> secrets() {
        return only(Secret.class);
    }

    public List<ConfigMap> configMaps() {
        return only(ConfigMap.class);
    }

    private <T> List<T> only(Class<T> type) {
        List<T> out = new ArrayList<>();
        for (HasMetadata o : objects) {
            if (type.isInstance(o)) {
                out.add(type.cast(o));
            }
        }
        return List.copyOf(out);
    }

    /** This file alone as a cluster state (see {@link #toClusterState(List)}). */
    public ClusterState toClusterState() {
        return toClusterState(List.of(this));
    }

    /**
     * The objects of several files as one cluster state. An object without
     * {@code creationTimestamp} gets a synthetic one, {@code 1970-01-01T00:00:00Z} plus its
     * position (counted from 1 over all files in the given order, then document order) in
     * seconds, so it is older than everything that comes later, as DESIGN.md promises for
     * manifest mode. Objects are copied, never changed.
     */
    public static ClusterState toClusterState(List<ParsedManifest> files) {
        List<Ingress> ingresses = new ArrayList<>();
        List<IngressClass> classes = new ArrayList<>();
        List<Service> services = new ArrayList<>();
        List<EndpointSlice> slices = new ArrayList<>();
        List<Endpoints> endpoints = new ArrayList<>();
        List<Secret> secrets = new ArrayList<>();
        List<ConfigMap> configMaps = new ArrayList<>();
        long seq = 0;
        for (ParsedManifest file : files) {
            for (HasMetadata o : file.objects()) {
                seq++;
                String ts = o.getMetadata().getCreationTimestamp();
                String synthetic = ts == null || ts.isEmpty() ? Instant.ofEpochSecond(seq).toString() : null;
                if (o instanceof Ingress i) {
                    ingresses.add(synthetic == null ? i
                            : i.toBuilder().editMetadata().withCreationTimestamp(synthetic).endMetadata().build());
                } else if (o instanceof IngressClass c) {
                    classes.add(synthetic == null ? c
                            : c.toBuilder().editMetadata().withCreationTimestamp(synthetic).endMetadata().build());
                } else if (o instanceof Service s) {
                    services.add(synthetic == null ? s
                            : s.toBuilder().editMetadata().withCreationTimestamp(synthetic).endMetadata().build());
                } else if (o instanceof EndpointSlice s) {
                    slices.add(synthetic == null ? s
                            : s.toBuilder().editMetadata().withCreationTimestamp(synthetic).endMetadata().build());
                } else if (o instanceof Endpoints e) {
                    endpoints.add(synthetic == null ? e
                            : e.toBuilder().editMetadata().withCreationTimestamp(synthetic).endMetadata().build());
                } else if (o instanceof Secret s) {
                    secrets.add(synthetic == null ? s
                            : s.toBuilder().editMetadata().withCreationTimestamp(synthetic).endMetadata().build());
                } else if (o instanceof ConfigMap c) {
                    configMaps.add(c); // no age: nothing orders ConfigMaps
                }
            }
        }
        return new ClusterState(ingresses, classes, services, slices, endpoints, secrets, configMaps);
    }
}
