package dev.sluice.controller.testing;

import io.fabric8.kubernetes.api.model.EndpointAddressBuilder;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.EndpointsBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClassBuilder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Kubernetes objects for watcher tests, built with fabric8's builders. */
public final class Fixtures {
    private Fixtures() {}

    /** A ClusterIP Service with one named TCP port {@code http} → target {@code port}. */
    public static Service service(String ns, String name, int port) {
        return new ServiceBuilder()
                .withNewMetadata().withNamespace(ns).withName(name).endMetadata()
                .withNewSpec().withType("ClusterIP").withClusterIP("10.96.0.10")
                .addNewPort().withName("http").withPort(port).withTargetPort(new IntOrString(port)).withProtocol("TCP").endPort()
                .endSpec().build();
    }

    /** A ready endpoint for an EndpointSlice. */
    public static Endpoint ready(String ip) {
        return new EndpointBuilder().withAddresses(ip).withNewConditions().withReady(true).endConditions().build();
    }

    /** A not-ready endpoint (Pod starting or failing its readiness probe). */
    public static Endpoint notReady(String ip) {
        return new EndpointBuilder().withAddresses(ip).withNewConditions().withReady(false).endConditions().build();
    }

    /** A terminating endpoint that still serves (as kube-proxy reports it during shutdown). */
    public static Endpoint terminating(String ip) {
        return new EndpointBuilder().withAddresses(ip)
                .withNewConditions().withReady(false).withServing(true).withTerminating(true).endConditions().build();
    }

    /** An EndpointSlice of Service {@code svc} with port {@code http}/{@code port}. */
    public static EndpointSlice slice(String ns, String name, String svc, int port, Endpoint... endpoints) {
        return new EndpointSliceBuilder()
                .withNewMetadata().withNamespace(ns).withName(name)
                .withLabels(Map.of("kubernetes.io/service-name", svc)).endMetadata()
                .withAddressType("IPv4")
                .addNewPort().withName("http").withPort(port).withProtocol("TCP").endPort()
                .withEndpoints(Arrays.asList(endpoints))
                .build();
    }

    /** An EndpointSlice with ready endpoints at {@code ips}. */
    public static EndpointSlice slice(String ns, String name, String svc, int port, String... ips) {
        return slice(ns, name, svc, port, Arrays.stream(ips).map(Fixtures::ready).toArray(Endpoint[]::new));
    }

    /** The legacy Endpoints object of Service {@code svc}: ready {@code ips}, not-ready {@code notReady}. */
    public static Endpoints endpoints(String ns, String svc, int port, List<String> ips, List<String> notReady) {
        return new EndpointsBuilder()
                .withNewMetadata().withNamespace(ns).withName(svc).endMetadata()
                .addNewSubset()
                .withAddresses(ips.stream().map(ip -> new EndpointAddressBuilder().withIp(ip).build()).toList())
                .withNotReadyAddresses(notReady.stream().map(ip -> new EndpointAddressBuilder().withIp(ip).build()).toList())
                .addNewPort().withName("http").withPort(port).withProtocol("TCP").endPort()
                .endSubset().build();
    }

    /** An Ingress {@code host}{@code path} (Prefix) → {@code svc}:{@code port}, class annotation {@code nginx}. */
    public static Ingress ingress(String ns, String name, String host, String path, String svc, int port) {
        return new IngressBuilder()
                .withNewMetadata().withNamespace(ns).withName(name)
                .withAnnotations(Map.of("kubernetes.io/ingress.class", "nginx")).endMetadata()
                .withNewSpec()
                .addNewRule().withHost(host).withNewHttp()
                .addNewPath().withPath(path).withPathType("Prefix")
                .withNewBackend().withNewService().withName(svc).withNewPort().withNumber(port).endPort().endService().endBackend()
                .endPath().endHttp().endRule()
                .endSpec().build();
    }

    /** Like {@link #ingress} but selected by {@code spec.ingressClassName} instead of the annotation. */
    public static Ingress ingressOfClass(String ns, String name, String className, String host, String svc, int port) {
        Ingress ing = ingress(ns, name, host, "/", svc, port);
        ing.getMetadata().setAnnotations(Map.of());
        ing.getSpec().setIngressClassName(className);
        return ing;
    }

    public static IngressClass ingressClass(String name, String controller) {
        return new IngressClassBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withController(controller).endSpec().build();
    }

    public static Secret tlsSecret(String ns, String name, String certPem) {
        return new SecretBuilder().withNewMetadata().withNamespace(ns).withName(name).endMetadata()
                .withType("kubernetes.io/tls")
                .withStringData(Map.of("tls.crt", certPem, "tls.key", "key"))
                .build();
    }

    public static Secret opaqueSecret(String ns, String name) {
        return typedSecret(ns, name, "Opaque");
    }

    public static Secret typedSecret(String ns, String name, String type) {
        return new SecretBuilder().withNewMetadata().withNamespace(ns).withName(name).endMetadata()
                .withType(type).withStringData(Map.of("password", "hunter2")).build();
    }
}
