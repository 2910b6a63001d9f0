package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.controller.testing.Fixtures;
import dev.sluice.gateway.proxy.GatewayServer;
import dev.sluice.gateway.proxy.RawHttpClient;
import dev.sluice.gateway.proxy.TestBackend;
import dev.sluice.gateway.route.RouteTableHolder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.netty.resolver.HostsFileEntriesResolver;
import java.net.InetAddress;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Where a Service's traffic goes, from Kubernetes objects to a real request: {@code service-upstream}
 * (the ClusterIP, here a loopback address with a server of its own, instead of the Pods of the
 * EndpointSlice) and {@code ExternalName} Services (a DNS name the proxy resolves when connecting;
 * {@code localhost} refused as by ingress-nginx), plus the upstream HTTP annotations read from an
 * Ingress.
 */
class UpstreamTargetsProxyTest {
    private static final String NS = "shop";
    /** Known to the proxy's hosts entries only, resolving to the external server's loopback address. */
    private static final String EXTERNAL_NAME = "payments.partner.test";

    private static TestBackend pod;
    private static TestBackend clusterIp;
    private static TestBackend external;
    private static GatewayServer gateway;
    private static Translation translation;

    @BeforeAll
    static void start() throws Exception {
        pod = TestBackend.start("pod", "127.0.0.2");
        // kube-proxy's virtual IP stands in as a loopback address on the same port as the Pods
        clusterIp = TestBackend.start("cluster-ip", "127.0.0.3");
        external = TestBackend.start("external", "127.0.0.4");
        int port = clusterIp.endpoint().port();
        TestBackend podOnPort = pod;

        Service web = new ServiceBuilder(Fixtures.service(NS, "web", port)).editSpec().withClusterIP("127.0.0.3")
                .editFirstPort().withTargetPort(new IntOrString(podOnPort.endpoint().port())).endPort().endSpec().build();
        // the same Service shape without the annotation: an upstream is per Service port (the oldest Ingress decides)
        Service plain = new ServiceBuilder(web).editMetadata().withName("plain").endMetadata().build();
        Service headless = new ServiceBuilder(Fixtures.service(NS, "headless", port)).editSpec().withClusterIP("None")
                .editFirstPort().withTargetPort(new IntOrString(podOnPort.endpoint().port())).endPort().endSpec().build();
        Service partner = externalName("partner", EXTERNAL_NAME, 443, external.endpoint().port());
        Service local = externalName("local", "localhost", 80, 80);
        Service loopback = externalName("loopback", "127.0.0.1", 80, 80);

        List<Ingress> ingresses = List.of(
                ingress("pods", "pods.test", "plain", port, Map.of()),
                ingress("cluster", "cluster.test", "web", port, Map.of("service-upstream", "true")),
                ingress("headless", "headless.test", "headless", port, Map.of("service-upstream", "true")),
                ingress("partner", "partner.test", "partner", 443, Map.of()),
                ingress("local", "local.test", "local", 80, Map.of()),
                ingress("loopback", "loopback.test", "loopback", 80, Map.of()),
                ingress("legacy", "legacy.test", "plain", port, Map.of("proxy-http-version", "1.0",
                        "proxy-request-buffering", "on")));
        ClusterState state = new ClusterState(ingresses, List.of(), List.of(web, plain, headless, partner, local, loopback),
                List.of(Fixtures.slice(NS, "web-abc", "web", podOnPort.endpoint().port(), "127.0.0.2"),
                        Fixtures.slice(NS, "plain-abc", "plain", podOnPort.endpoint().port(), "127.0.0.2"),
                        Fixtures.slice(NS, "headless-abc", "headless", podOnPort.endpoint().port(), "127.0.0.2")),
                List.of(), List.of());
        translation = new IngressTranslator(TranslatorConfig.DEFAULTS).translate(state, Instant.EPOCH);

        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(translation.table());
        InetAddress externalAddress = InetAddress.getByName("127.0.0.4");
        HostsFileEntriesResolver hosts = (name, types) -> EXTERNAL_NAME.equals(name) ? externalAddress : null;
        gateway = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).upstreamHosts(hosts).build();
        gateway.start();
    }

    @AfterAll
    static void stop() {
        gateway.close();
        pod.close();
        clusterIp.close();
        external.close();
    }

    private static Service externalName(String name, String externalName, int port, int targetPort) {
        return new ServiceBuilder().withNewMetadata().withNamespace(NS).withName(name).endMetadata()
                .withNewSpec().withType("ExternalName").withExternalName(externalName)
                .addNewPort().withName("https").withPort(port).withTargetPort(new IntOrString(targetPort)).endPort()
                .endSpec().build();
    }

    private static Ingress ingress(String name, String host, String svc, int port, Map<String, String> annotations) {
        Ingress ing = Fixtures.ingress(NS, name, host, "/", svc, port);
        Map<String, String> all = new HashMap<>(ing.getMetadata().getAnnotations());
        annotations.forEach((k, v) -> all.put("nginx.ingress.kubernetes.io/" + k, v));
        ing.getMetadata().setAnnotations(all);
        return ing;
    }

    private static RawHttpClient.Response get(String host) {
        try (RawHttpClient c = RawHttpClient.connect(gateway.httpPort())) {
            return c.exchange("GET /orders HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        }
    }

    private static List<String> problemsOf(String ingress) {
        return translation.problems().stream().filter(p -> p.namespace().equals(NS) && p.name().equals(ingress))
                .map(Problem::message).toList();
    }

    @Test
    void withoutServiceUpstreamThePodsOfTheEndpointSliceServe() {
        assertThat(get("pods.test").header("x-pod")).isEqualTo("pod");
    }

    @Test
    void serviceUpstreamSendsTheRequestToTheClusterIpAndServicePort() {
        RawHttpClient.Response r = get("cluster.test");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("x-pod")).isEqualTo("cluster-ip");
        assertThat(clusterIp.requestsReceived()).isPositive();
    }

    @Test
    void aHeadlessServiceWithServiceUpstreamKeepsItsPodsAndIsReported() {
        assertThat(get("headless.test").header("x-pod")).isEqualTo("pod");
        assertThat(problemsOf("headless")).anyMatch(m -> m.contains("service-upstream") && m.contains("headless"));
    }

    @Test
    void anExternalNameServiceIsProxiedByItsDnsNameOnItsTargetPortWithTheClientsHost() {
        RawHttpClient.Response r = get("partner.test");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("x-pod")).isEqualTo("external");
        assertThat(r.echoedHeader("host")).isEqualTo("partner.test");
        assertThat(problemsOf("partner")).isEmpty();
    }

    @Test
    void anExternalNameServicePointingToLocalhostOrLoopbackIsRefusedAndReported() {
        assertThat(get("local.test").status()).isEqualTo(503);
        assertThat(get("loopback.test").status()).isEqualTo(503);
        assertThat(problemsOf("local")).anyMatch(m -> m.contains("localhost") && m.contains("refused"));
        assertThat(problemsOf("loopback")).anyMatch(m -> m.contains("127.0.0.1") && m.contains("refused"));
    }

    @Test
    void disableSvcExternalNameLeavesExternalNameServicesWithoutAnEndpoint() {
        ClusterState state = new ClusterState(List.of(ingress("partner", "partner.test", "partner", 443, Map.of())),
                List.of(), List.of(externalName("partner", EXTERNAL_NAME, 443, 8443)), List.of(), List.of(), List.of());
        Translation off = new IngressTranslator(TranslatorConfig.DEFAULTS.withSvcExternalNameDisabled(true))
                .translate(state, Instant.EPOCH);
        Translation on = new IngressTranslator(TranslatorConfig.DEFAULTS).translate(state, Instant.EPOCH);

        assertThat(off.problems()).anyMatch(p -> p.name().equals("partner")
                && p.message().contains("--disable-svc-external-name") && p.message().contains("answers 503"));
        assertThat(on.problems()).isEmpty();
        List<dev.sluice.gateway.request.Endpoint> endpoints = new java.util.ArrayList<>();
        on.table().forEachUpstream(u -> endpoints.addAll(u.backend().endpoints()));
        assertThat(endpoints).contains(dev.sluice.gateway.request.Endpoint.of(EXTERNAL_NAME, 8443));
        List<dev.sluice.gateway.request.Endpoint> none = new java.util.ArrayList<>();
        off.table().forEachUpstream(u -> none.addAll(u.backend().endpoints()));
        assertThat(none).isEmpty();
    }

    @Test
    void proxyHttpVersionAndRequestBufferingAnnotationsReachTheBackend() {
        try (RawHttpClient c = RawHttpClient.connect(gateway.httpPort())) {
            c.send("POST /orders HTTP/1.1\r\nHost: legacy.test\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .sendPatternBody(70_000, true);
            RawHttpClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().path("version").asText()).isEqualTo("HTTP/1.0");
            assertThat(r.echoedHeader("content-length")).isEqualTo("70000");
            assertThat(r.echoedHeader("transfer-encoding")).isNull();
        }
    }
}
