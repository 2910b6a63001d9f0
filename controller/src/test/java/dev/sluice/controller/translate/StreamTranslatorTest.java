package dev.sluice.controller.translate;

import static dev.sluice.controller.testing.Fixtures.endpoints;
import static dev.sluice.controller.testing.Fixtures.notReady;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.stream.StreamProtocol;
import dev.sluice.gateway.stream.StreamService;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The tcp-services / udp-services ConfigMap format, and a Problem for every kind of bad entry. */
class StreamTranslatorTest {
    private static final StreamConfig FLAGS =
            new StreamConfig("ingress-nginx/tcp-services", "ingress-nginx/udp-services", Set.of(31234, 31235, 10254));
    private static final StreamConfig TCP_ONLY = new StreamConfig("ingress-nginx/tcp-services", null, Set.of());

    private static ConfigMap configMap(String name, Map<String, String> data) {
        return new ConfigMapBuilder().withNewMetadata().withNamespace("ingress-nginx").withName(name).endMetadata()
                .withData(data).build();
    }

    /** Service {@code dns} with a UDP port 53 (name dns) and a TCP port 53 (name dns-tcp), endpoints 127.0.0.5. */
    private static List<HasMetadata> dnsService() {
        Service svc = new ServiceBuilder().withNewMetadata().withNamespace("kube-system").withName("dns").endMetadata()
                .withNewSpec()
                .addNewPort().withName("dns").withPort(53).withTargetPort(new IntOrString(5353)).withProtocol("UDP").endPort()
                .addNewPort().withName("dns-tcp").withPort(53).withTargetPort(new IntOrString(5353)).withProtocol("TCP").endPort()
                .endSpec().build();
        EndpointSlice s = new EndpointSliceBuilder().withNewMetadata().withNamespace("kube-system").withName("dns-1")
                .withLabels(Map.of("kubernetes.io/service-name", "dns")).endMetadata().withAddressType("IPv4")
                .addNewPort().withName("dns").withPort(5353).withProtocol("UDP").endPort()
                .addNewPort().withName("dns-tcp").withPort(5353).withProtocol("TCP").endPort()
                .addNewEndpoint().withAddresses("127.0.0.5").endEndpoint().build();
        return List.of(svc, s);
    }

    private static Translation translate(StreamConfig flags, HasMetadata... objects) {
        List<HasMetadata> all = new ArrayList<>(List.of(objects));
        List<Service> services = new ArrayList<>();
        List<EndpointSlice> slices = new ArrayList<>();
        List<io.fabric8.kubernetes.api.model.Endpoints> eps = new ArrayList<>();
        List<ConfigMap> cms = new ArrayList<>();
        for (HasMetadata o : all) {
            if (o instanceof Service s) {
                services.add(s);
            } else if (o instanceof EndpointSlice s) {
                slices.add(s);
            } else if (o instanceof io.fabric8.kubernetes.api.model.Endpoints e) {
                eps.add(e);
            } else if (o instanceof ConfigMap c) {
                cms.add(c);
            }
        }
        ClusterState state = new ClusterState(List.of(), List.of(), services, slices, eps, List.of(), cms);
        return new IngressTranslator(TranslatorConfig.DEFAULTS.withStreams(flags)).translate(state, Instant.EPOCH);
    }

    private static List<String> problems(Translation t) {
        return t.problems().stream().map(Problem::toString).toList();
    }

    @Test
    void entriesBecomeStreamServicesWithTheEndpointsOfTheServicePort() {
        Map<String, String> tcp = new LinkedHashMap<>();
        tcp.put("9000", "default/echo:7000");
        tcp.put("9001", "default/echo:http:PROXY");
        tcp.put("9002", "default/echo:7000::PROXY");
        tcp.put("9003", "default/echo:7000:proxy:PROXY");
        tcp.put("5353", "kube-system/dns:dns-tcp");
        Translation t = translate(FLAGS, service("default", "echo", 7000),
                slice("default", "echo-1", "echo", 7000, "127.0.0.3", "127.0.0.2"),
                dnsService().get(0), dnsService().get(1),
                configMap("tcp-services", tcp), configMap("udp-services", Map.of("53", "kube-system/dns:53")));

        assertThat(t.problems()).isEmpty();
        List<Endpoint> echo = List.of(Endpoint.of("127.0.0.2", 7000), Endpoint.of("127.0.0.3", 7000));
        assertThat(t.table().streams().services()).containsExactly(
                new StreamService(StreamProtocol.TCP, 5353, "kube-system-dns-dns-tcp", List.of(Endpoint.of("127.0.0.5", 5353)),
                        false, false, "ingress-nginx/tcp-services 5353"),
                new StreamService(StreamProtocol.TCP, 9000, "default-echo-7000", echo, false, false,
                        "ingress-nginx/tcp-services 9000"),
                new StreamService(StreamProtocol.TCP, 9001, "default-echo-http", echo, true, false,
                        "ingress-nginx/tcp-services 9001"),
                new StreamService(StreamProtocol.TCP, 9002, "default-echo-7000", echo, false, true,
                        "ingress-nginx/tcp-services 9002"),
                new StreamService(StreamProtocol.TCP, 9003, "default-echo-7000", echo, true, true,
                        "ingress-nginx/tcp-services 9003"),
                // port 53 by number: the UDP port of that number, as the ConfigMap's protocol says
                new StreamService(StreamProtocol.UDP, 53, "kube-system-dns-53", List.of(Endpoint.of("127.0.0.5", 5353)),
                        false, false, "ingress-nginx/udp-services 53"));
    }

    @Test
    void everyBadEntryIsAProblemNamingTheConfigMapAndKeyAndTheOthersStillWork() {
        Map<String, String> tcp = new LinkedHashMap<>();
        tcp.put("9000", "default/echo:7000"); // good
        tcp.put("http", "default/echo:7000");
        tcp.put("0", "default/echo:7000");
        tcp.put("70000", "default/echo:7000");
        tcp.put("31234", "default/echo:7000");
        tcp.put("10254", "default/echo:7000");
        tcp.put("9001", "default/echo");
        tcp.put("9002", "echo:7000");
        tcp.put("9003", "default/echo:");
        tcp.put("9004", "default/echo:7000:PROXY:PROXY:PROXY");
        tcp.put("9005", "default/echo:7000:SSL");
        tcp.put("9006", "default/missing:7000");
        tcp.put("9007", "default/echo:7001");
        tcp.put("9008", "kube-system/dns:dns"); // a UDP port in the TCP ConfigMap
        Map<String, String> udp = new LinkedHashMap<>();
        udp.put("53", "kube-system/dns:dns:PROXY"); // flags ignored, entry kept
        List<HasMetadata> objects = new ArrayList<>(List.of(service("default", "echo", 7000),
                slice("default", "echo-1", "echo", 7000, "127.0.0.2"), configMap("tcp-services", tcp),
                configMap("udp-services", udp)));
        objects.addAll(dnsService());
        Translation t = translate(FLAGS, objects.toArray(HasMetadata[]::new));

        String cm = "ConfigMap ingress-nginx/tcp-services: tcp service ";
        assertThat(problems(t)).containsExactlyInAnyOrder(
                cm + "\"http\": the key is not a port number; entry skipped",
                cm + "\"0\": port out of range 1-65535; entry skipped",
                cm + "\"70000\": port out of range 1-65535; entry skipped",
                cm + "\"31234\": port 31234 is Sluice's own HTTP, HTTPS or admin port; entry skipped",
                cm + "\"10254\": port 10254 is Sluice's own HTTP, HTTPS or admin port; entry skipped",
                cm + "\"9001\": \"default/echo\" is not <namespace>/<service>:<port>[:PROXY][:PROXY]; entry skipped",
                cm + "\"9002\": \"echo:7000\" is not <namespace>/<service>:<port>[:PROXY][:PROXY]; entry skipped",
                cm + "\"9003\": \"default/echo:\" is not <namespace>/<service>:<port>[:PROXY][:PROXY]; entry skipped",
                cm + "\"9004\": \"default/echo:7000:PROXY:PROXY:PROXY\" is not "
                        + "<namespace>/<service>:<port>[:PROXY][:PROXY]; entry skipped",
                cm + "\"9005\": \"default/echo:7000:SSL\" is not <namespace>/<service>:<port>[:PROXY][:PROXY] "
                        + "(unknown flag \"SSL\"); entry skipped",
                cm + "\"9006\": service default/missing not found; entry skipped",
                cm + "\"9007\": service default/echo has no port 7001; entry skipped",
                cm + "\"9008\": port dns of service kube-system/dns is UDP, not TCP; entry skipped",
                "ConfigMap ingress-nginx/udp-services: udp service \"53\": UDP services take no PROXY flags; ignored");
        assertThat(t.table().streams().services()).extracting(s -> s.protocol() + "/" + s.port())
                .containsExactly("TCP/9000", "UDP/53");
        assertThat(t.table().streams().services().get(1).proxyProtocolIn()).isFalse();
    }

    @Test
    void aMissingConfigMapIsAProblemAndNoFlagMeansNoStreams() {
        Translation t = translate(FLAGS, service("default", "echo", 7000));
        assertThat(problems(t)).containsExactly(
                "ConfigMap ingress-nginx/tcp-services: not found (--tcp-services-configmap); no TCP services until it exists",
                "ConfigMap ingress-nginx/udp-services: not found (--udp-services-configmap); no UDP services until it exists");
        assertThat(t.table().streams().isEmpty()).isTrue();

        // ConfigMaps nobody names are not read, whatever they contain
        Translation none = translate(StreamConfig.NONE, configMap("tcp-services", Map.of("x", "y")));
        assertThat(none.problems()).isEmpty();
        assertThat(none.table().streams().isEmpty()).isTrue();
    }

    @Test
    void aServiceWithoutReadyEndpointsKeepsItsPortWithNoEndpointsAndIsOnlyANote() {
        Translation t = translate(TCP_ONLY, service("default", "echo", 7000),
                slice("default", "echo-1", "echo", 7000, notReady("127.0.0.2")),
                configMap("tcp-services", Map.of("9000", "default/echo:7000")));
        assertThat(t.problems()).isEmpty();
        assertThat(t.table().streams().services()).singleElement()
                .satisfies(s -> assertThat(s.endpoints()).isEmpty());
        assertThat(t.notes()).extracting(Problem::message)
                .contains("tcp service \"9000\": service default/echo has no ready endpoints; port 9000 stays open and "
                        + "refuses traffic");
    }

    @Test
    void theExampleInDeployExamplesTranslatesWithoutProblems() throws Exception {
        java.nio.file.Path file = java.nio.file.Path.of(System.getProperty("basedir", "."))
                .resolve("../deploy/examples/tcp-udp-services.yaml").normalize();
        ClusterState state = dev.sluice.controller.source.ManifestParser.parse(file.toString(),
                java.nio.file.Files.readString(file)).toClusterState();
        Translation t = new IngressTranslator(TranslatorConfig.DEFAULTS.withStreams(
                new StreamConfig("sluice/tcp-services", "sluice/udp-services", Set.of()))).translate(state, Instant.EPOCH);
        assertThat(t.problems()).isEmpty();
        assertThat(t.table().streams().services()).extracting(s -> s.protocol() + "/" + s.port() + " " + s.backend()
                        + (s.proxyProtocolOut() ? " PROXY out" : ""))
                .containsExactly("TCP/9000 default-echo-7000", "TCP/9001 default-echo-7000 PROXY out",
                        "UDP/5353 default-echo-7001");
    }

    @Test
    void legacyEndpointsServeWhenThereIsNoSliceAndEqualInputsGiveEqualTables() {
        HasMetadata[] objects = {service("default", "echo", 7000),
            endpoints("default", "echo", 7000, List.of("127.0.0.4"), List.of("127.0.0.9")),
            configMap("tcp-services", Map.of("9000", "default/echo:7000"))};
        Translation a = translate(TCP_ONLY, objects);
        Translation b = translate(TCP_ONLY, objects);
        assertThat(a.table().streams().services()).singleElement()
                .satisfies(s -> assertThat(s.endpoints()).containsExactly(Endpoint.of("127.0.0.4", 7000)));
        assertThat(a.table()).isEqualTo(b.table());
    }
}
