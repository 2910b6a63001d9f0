package dev.sluice.loadtest.controlplane;

import dev.sluice.controller.translate.ClusterState;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPath;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPathBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClassBuilder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A synthetic but realistic cluster for control-plane measurements: {@code count} Ingresses in 100
 * namespaces, each with its own Service and an EndpointSlice of three ready Pods.
 *
 * <p>The mix, by Ingress index {@code i}:
 * <ul>
 *   <li>hosts: {@code app-<i/2>.<ns>.example.com}, so every host is shared by two Ingresses (each
 *       adds its own paths), about {@code count/2} hosts in all;
 *   <li>paths: every Ingress has a Prefix path and an Exact path; every 10th Ingress is a regex
 *       Ingress ({@code use-regex} with a {@code rewrite-target}, so its host is in regex mode);
 *   <li>every 5th Ingress carries a handful of ordinary annotations (timeouts, body size, CORS);
 *   <li>every 100th Ingress has a canary Ingress ({@code canary-weight: 10}) on the same host
 *       and path to another Service — the canaries come on top of {@code count};
 *   <li>every 50th Ingress terminates TLS with a Secret of its namespace (one real
 *       {@code *.secure.example.com} certificate shared by all of them, so parsing is real but key
 *       generation is not measured).
 * </ul>
 */
public final class IngressFleet {
    static final int NAMESPACES = 100;
    private static final String PREFIX = "nginx.ingress.kubernetes.io/";

    private IngressFleet() {}

    /** The objects of the fleet, oldest Ingress first. */
    public static ClusterState build(int count) {
        List<Ingress> ingresses = new ArrayList<>();
        List<Service> services = new ArrayList<>();
        List<EndpointSlice> slices = new ArrayList<>();
        List<Secret> secrets = new ArrayList<>();
        String[] pem = pem();
        for (int i = 0; i < count; i++) {
            String ns = namespace(i);
            String svc = "svc-" + i;
            String host = host(i);
            services.add(service(ns, svc));
            slices.add(slice(ns, svc + "-1", svc, podIps(i)));
            Map<String, String> annotations = new LinkedHashMap<>();
            annotations.put("kubernetes.io/ingress.class", "nginx");
            List<HTTPIngressPath> paths = new ArrayList<>();
            if (i % 10 == 0) {
                annotations.put(PREFIX + "use-regex", "true");
                annotations.put(PREFIX + "rewrite-target", "/$2");
                paths.add(path("/v" + (i % 2 + 1) + "(/|$)(.*)", "ImplementationSpecific", svc));
                paths.add(path("/items/[0-9]+/detail", "Prefix", svc));
            } else {
                paths.add(path(i % 2 == 0 ? "/" : "/api-" + i, "Prefix", svc));
                paths.add(path("/status-" + i, "Exact", svc));
            }
            if (i % 5 == 0) {
                annotations.put(PREFIX + "proxy-read-timeout", "120");
                annotations.put(PREFIX + "proxy-body-size", "8m");
                annotations.put(PREFIX + "enable-cors", "true");
                annotations.put(PREFIX + "cors-allow-origin", "https://" + host);
            }
            IngressBuilder b = new IngressBuilder()
                    .withNewMetadata().withNamespace(ns).withName("ing-" + i).withAnnotations(annotations)
                    .withCreationTimestamp(timestamp(i)).endMetadata()
                    .withNewSpec()
                    .addNewRule().withHost(host).withNewHttp().withPaths(paths).endHttp().endRule()
                    .endSpec();
            if (i % 50 == 0) {
                String secret = "tls-" + i;
                b.editSpec().addNewTl().withHosts(host).withSecretName(secret).endTl().endSpec();
                secrets.add(tlsSecret(ns, secret, pem[0], pem[1]));
            }
            ingresses.add(b.build());
            if (i % 100 == 0) {
                String canarySvc = svc + "-canary";
                services.add(service(ns, canarySvc));
                slices.add(slice(ns, canarySvc + "-1", canarySvc, podIps(i + count)));
                ingresses.add(new IngressBuilder()
                        .withNewMetadata().withNamespace(ns).withName("ing-" + i + "-canary")
                        .withAnnotations(Map.of("kubernetes.io/ingress.class", "nginx",
                                PREFIX + "canary", "true", PREFIX + "canary-weight", "10"))
                        .withCreationTimestamp(timestamp(i)).endMetadata()
                        .withNewSpec().addNewRule().withHost(host).withNewHttp()
                        .withPaths(path(paths.get(0).getPath(), paths.get(0).getPathType(), canarySvc))
                        .endHttp().endRule().endSpec().build());
            }
        }
        return new ClusterState(ingresses, List.of(ingressClass()), services, slices, List.of(), secrets);
    }

    /** Every object of {@code state}, for writing manifests. */
    public static List<HasMetadata> objects(ClusterState state) {
        List<HasMetadata> all = new ArrayList<>();
        all.addAll(state.ingressClasses());
        all.addAll(state.services());
        all.addAll(state.endpointSlices());
        all.addAll(state.secrets());
        all.addAll(state.ingresses());
        return all;
    }

    static String namespace(int i) {
        return "team-" + (i % NAMESPACES);
    }

    /** Ingresses {@code 2k} and {@code 2k+1} share a host; every 25th host is a TLS host. */
    static String host(int i) {
        int k = i / 2;
        return "app-" + k + "." + (k % 25 == 0 ? "secure" : namespace(k)) + ".example.com";
    }

    static IngressClass ingressClass() {
        return new IngressClassBuilder().withNewMetadata().withName("nginx").endMetadata()
                .withNewSpec().withController("k8s.io/ingress-nginx").endSpec().build();
    }

    static Service service(String ns, String name) {
        return new ServiceBuilder()
                .withNewMetadata().withNamespace(ns).withName(name).endMetadata()
                .withNewSpec().withType("ClusterIP").withClusterIP("10.96.0.10")
                .addNewPort().withName("http").withPort(80).withTargetPort(new IntOrString(8080)).withProtocol("TCP").endPort()
                .endSpec().build();
    }

    static EndpointSlice slice(String ns, String name, String svc, List<String> ips) {
        return slice(ns, name, svc, 8080, ips);
    }

    static EndpointSlice slice(String ns, String name, String svc, int port, List<String> ips) {
        List<Endpoint> endpoints = ips.stream()
                .map(ip -> new EndpointBuilder().withAddresses(ip).withNewConditions().withReady(true).endConditions().build())
                .toList();
        return new EndpointSliceBuilder()
                .withNewMetadata().withNamespace(ns).withName(name)
                .withLabels(Map.of("kubernetes.io/service-name", svc)).endMetadata()
                .withAddressType("IPv4")
                .addNewPort().withName("http").withPort(port).withProtocol("TCP").endPort()
                .withEndpoints(endpoints)
                .build();
    }

    private static List<String> podIps(int i) {
        int base = i * 3;
        List<String> ips = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            int n = base + k;
            ips.add("10." + (1 + (n >> 16)) + "." + ((n >> 8) & 0xff) + "." + (n & 0xff));
        }
        return ips;
    }

    private static HTTPIngressPath path(String path, String type, String svc) {
        return new HTTPIngressPathBuilder().withPath(path).withPathType(type)
                .withNewBackend().withNewService().withName(svc).withNewPort().withNumber(80).endPort().endService()
                .endBackend().build();
    }

    private static String timestamp(int i) {
        // one second apart, so the order is the index order
        return java.time.Instant.parse("2026-01-01T00:00:00Z").plusSeconds(i).toString();
    }

    private static Secret tlsSecret(String ns, String name, String cert, String key) {
        return new SecretBuilder().withNewMetadata().withNamespace(ns).withName(name).endMetadata()
                .withType("kubernetes.io/tls")
                .withData(Map.of("tls.crt", base64(cert), "tls.key", base64(key)))
                .build();
    }

    private static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.US_ASCII));
    }

    /** The PEM of a self-signed certificate for {@code *.secure.example.com} and its key. */
    private static String[] pem() {
        try {
            java.security.KeyPairGenerator gen = java.security.KeyPairGenerator.getInstance("EC");
            gen.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
            java.security.KeyPair pair = gen.generateKeyPair();
            org.bouncycastle.asn1.x500.X500Name subject = new org.bouncycastle.asn1.x500.X500Name("CN=*.secure.example.com");
            java.time.Instant now = java.time.Instant.now();
            var builder = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(subject, java.math.BigInteger.TEN,
                    java.util.Date.from(now.minusSeconds(86_400)), java.util.Date.from(now.plusSeconds(86_400 * 365L)),
                    subject, pair.getPublic());
            builder.addExtension(org.bouncycastle.asn1.x509.Extension.subjectAlternativeName, false,
                    new org.bouncycastle.asn1.x509.GeneralNames(new org.bouncycastle.asn1.x509.GeneralName(
                            org.bouncycastle.asn1.x509.GeneralName.dNSName, "*.secure.example.com")));
            java.security.cert.X509Certificate cert = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter()
                    .getCertificate(builder.build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder(
                            "SHA256withECDSA").build(pair.getPrivate())));
            Base64.Encoder mime = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
            String certPem = "-----BEGIN CERTIFICATE-----\n" + mime.encodeToString(cert.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
            String keyPem = "-----BEGIN PRIVATE KEY-----\n" + mime.encodeToString(pair.getPrivate().getEncoded())
                    + "\n-----END PRIVATE KEY-----\n";
            return new String[] {certPem, keyPem};
        } catch (java.security.GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException
                | org.bouncycastle.cert.CertIOException e) {
            throw new IllegalStateException(e);
        }
    }
}
