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
import java.util.Map;

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
        return toClusterState(files, new Stamped());
    }

    /**
     * What {@link #toClusterState(List, Stamped)} made of each file last time, so that the
     * objects of a file that did not change (and did not move) are the same objects in the next
     * state; stamping every object of every file again would cost more than the change. Owned by
     * one thread.
     */
    public static final class Stamped {
        private record File(long firstSeq, List<HasMetadata> objects) {}

        private Map<ParsedManifest, File> byFile = new java.util.IdentityHashMap<>();
    }

    /**
     * {@link #toClusterState(List)} that reuses {@code memo}'s objects for files that are the same
     * parse at the same position as last time.
     */
    public static ClusterState toClusterState(List<ParsedManifest> files, Stamped memo) {
        Map<ParsedManifest, Stamped.File> next = new java.util.IdentityHashMap<>();
        List<Ingress> ingresses = new ArrayList<>();
        List<IngressClass> classes = new ArrayList<>();
        List<Service> services = new ArrayList<>();
        List<EndpointSlice> slices = new ArrayList<>();
        List<Endpoints> endpoints = new ArrayList<>();
        List<Secret> secrets = new ArrayList<>();
        List<ConfigMap> configMaps = new ArrayList<>();
        long seq = 0;
        for (ParsedManifest file : files) {
            Stamped.File known = memo.byFile.get(file);
            if (known == null || known.firstSeq() != seq + 1) {
                List<HasMetadata> stamped = new ArrayList<>(file.objects().size());
                long s = seq;
                for (HasMetadata o : file.objects()) {
                    s++;
                    String ts = o.getMetadata().getCreationTimestamp();
                    // no age for ConfigMaps: nothing orders them
                    boolean dated = ts != null && !ts.isEmpty() || o instanceof ConfigMap;
                    stamped.add(dated ? o : stamped(o, Instant.ofEpochSecond(s).toString()));
                }
                known = new Stamped.File(seq + 1, stamped);
            }
            next.put(file, known);
            seq += file.objects().size();
            for (HasMetadata obj : known.objects()) {
                if (obj instanceof Ingress i) {
                    ingresses.add(i);
                } else if (obj instanceof IngressClass c) {
                    classes.add(c);
                } else if (obj instanceof Service s) {
                    services.add(s);
                } else if (obj instanceof EndpointSlice s) {
                    slices.add(s);
                } else if (obj instanceof Endpoints e) {
                    endpoints.add(e);
                } else if (obj instanceof Secret s) {
                    secrets.add(s);
                } else if (obj instanceof ConfigMap c) {
                    configMaps.add(c);
                }
            }
        }
        memo.byFile = next;
        return new ClusterState(ingresses, classes, services, slices, endpoints, secrets, configMaps);
    }

    /** A copy of {@code o} with {@code creationTimestamp} set (the object itself for kinds not kept). */
    private static HasMetadata stamped(HasMetadata o, String ts) {
        if (o instanceof Ingress i) {
            return i.toBuilder().editMetadata().withCreationTimestamp(ts).endMetadata().build();
        } else if (o instanceof IngressClass c) {
            return c.toBuilder().editMetadata().withCreationTimestamp(ts).endMetadata().build();
        } else if (o instanceof Service s) {
            return s.toBuilder().editMetadata().withCreationTimestamp(ts).endMetadata().build();
        } else if (o instanceof EndpointSlice s) {
            return s.toBuilder().editMetadata().withCreationTimestamp(ts).endMetadata().build();
        } else if (o instanceof Endpoints e) {
            return e.toBuilder().editMetadata().withCreationTimestamp(ts).endMetadata().build();
        } else if (o instanceof Secret s) {
            return s.toBuilder().editMetadata().withCreationTimestamp(ts).endMetadata().build();
        }
        return o;
    }
}
