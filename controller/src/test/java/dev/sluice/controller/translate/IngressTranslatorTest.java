package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.controller.testing.Fixtures;
import dev.sluice.gateway.proxy.TestCertificates;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RoutingDecision;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Properties of the translator that fixtures cannot show: determinism, isolation, scale. */
class IngressTranslatorTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private final IngressTranslator translator = new IngressTranslator(TranslatorConfig.DEFAULTS);

    @Test
    void theOrderOfObjectsInTheSnapshotDoesNotMatter() {
        for (String name : List.of("merge.yaml", "regex-mode.yaml", "backends.yaml", "seed-tutorial.yaml")) {
            ClusterState state = Fixture.load(name).state();
            Translation expected = translator.translate(state, NOW);
            Random random = new Random(42);
            for (int round = 0; round < 5; round++) {
                ClusterState shuffled = new ClusterState(shuffle(state.ingresses(), random),
                        shuffle(state.ingressClasses(), random), shuffle(state.services(), random),
                        shuffle(state.endpointSlices(), random), shuffle(state.endpoints(), random),
                        shuffle(state.secrets(), random));
                Translation t = translator.translate(shuffled, NOW);
                assertThat(t.table()).as(name).isEqualTo(expected.table());
                assertThat(t.problems()).as(name).containsExactlyElementsOf(expected.problems());
            }
        }
    }

    @Test
    void theSameSnapshotAtTheSameNowGivesEqualTranslationsWithAWarmOrAColdCertificateCache() {
        Instant notAfter = NOW.plus(Duration.ofDays(1));
        TestCertificates.Issued a = TestCertificates.issue("a.test", NOW.minus(Duration.ofDays(30)), notAfter,
                "a.test");
        TestCertificates.Issued gone = TestCertificates.issue("b.test", NOW.minus(Duration.ofDays(30)),
                NOW.minus(Duration.ofDays(1)), "b.test");
        ClusterState fixture = Fixture.load("seed-tutorial.yaml").state();
        List<Ingress> ingresses = new ArrayList<>(fixture.ingresses());
        ingresses.add(tlsIngress("a", "a.test"));
        ingresses.add(tlsIngress("b", "b.test"));
        ClusterState state = new ClusterState(ingresses, fixture.ingressClasses(), fixture.services(),
                fixture.endpointSlices(), fixture.endpoints(), List.of(tlsSecret("a", a), tlsSecret("b", gone)));

        Translation first = translator.translate(state, NOW);
        Translation warm = translator.translate(state, NOW);
        Translation cold = new IngressTranslator(TranslatorConfig.DEFAULTS).translate(state, NOW);

        assertThat(first.table().tls().find("a.test").secret()).isEqualTo("default/a-tls");
        assertThat(first.problems()).extracting(Problem::message).containsExactly(
                "the certificate of TLS Secret default/b-tls expired on " + gone.certificate().getNotAfter().toInstant()
                        + "; served anyway");
        assertThat(warm).isEqualTo(first);
        assertThat(cold).isEqualTo(first);
        assertThat(translator.translate(state, notAfter.plusSeconds(1))).isNotEqualTo(first); // a-tls expired too
    }

    private static Ingress tlsIngress(String name, String host) {
        Ingress ing = new IngressBuilder()
                .withNewMetadata().withNamespace("default").withName(name)
                .withCreationTimestamp("2020-01-01T00:00:00Z")
                .addToAnnotations("kubernetes.io/ingress.class", "nginx").endMetadata()
                .withNewSpec().addNewTl().withHosts(host).withSecretName(name + "-tls").endTl()
                .addNewRule().withHost(host).withNewHttp()
                .addNewPath().withPath("/").withPathType("Prefix").withNewBackend().withNewService()
                .withName("user-service-v1").withNewPort().withNumber(80).endPort().endService().endBackend().endPath()
                .endHttp().endRule().endSpec().build();
        return ing;
    }

    private static Secret tlsSecret(String name, TestCertificates.Issued c) {
        return new SecretBuilder().withNewMetadata().withNamespace("default").withName(name + "-tls").endMetadata()
                .withType("kubernetes.io/tls")
                .withStringData(Map.of("tls.crt", c.certificatePem(), "tls.key", c.pkcs8KeyPem())).build();
    }

    @Test
    void anIngressThatCannotBeTranslatedIsLeftOutAndReported() {
        ClusterState state = Fixture.load("seed-tutorial.yaml").state();
        // a null path entry makes translating this Ingress throw half-way through its paths
        Ingress broken = new IngressBuilder()
                .withNewMetadata().withNamespace("default").withName("broken")
                .addToAnnotations("kubernetes.io/ingress.class", "nginx").endMetadata()
                .withNewSpec().addNewRule().withHost("broken.test").withNewHttp()
                .addNewPath().withPath("/ok").withPathType("Prefix").withNewBackend().withNewService()
                .withName("user-service-v1").withNewPort().withNumber(80).endPort().endService().endBackend().endPath()
                .endHttp().endRule().endSpec().build();
        broken.getSpec().getRules().get(0).getHttp().getPaths().add(null);
        List<Ingress> ingresses = new ArrayList<>(state.ingresses());
        ingresses.add(0, broken);
        Translation t = translator.translate(new ClusterState(ingresses, state.ingressClasses(), state.services(),
                state.endpointSlices(), state.endpoints(), state.secrets()), NOW);

        assertThat(t.problems()).singleElement().satisfies(p -> {
            assertThat(p.namespace() + "/" + p.name()).isEqualTo("default/broken");
            assertThat(p.message()).contains("could not be translated");
        });
        // nothing of the broken Ingress made it in, not even the path before the bad one ...
        assertThat(t.table().hosts()).doesNotContainKey("broken.test");
        // ... and the others are unaffected
        assertThat(t.table()).isEqualTo(translator.translate(state, NOW).table());
        // the stack trace is returned for the sync loop to log, the translator logs nothing
        assertThat(t.notes()).anySatisfy(n -> assertThat(n.message()).startsWith("translation failed: ")
                .contains("NullPointerException", "at dev.sluice.controller.translate.IngressTranslator"));
    }

    @Test
    void whatWasOnlyLoggedAtDebugLevelIsReturnedAsNotes() {
        Ingress other = Fixtures.ingress("default", "other", "other.test", "/", "web", 80);
        other.getMetadata().setAnnotations(Map.of("kubernetes.io/ingress.class", "traefik"));
        Translation t = translator.translate(new ClusterState(List.of(Fixtures.ingress("default", "web", "web.test", "/",
                "web", 80), other), List.of(), List.of(Fixtures.service("default", "web", 80)), List.of(), List.of(),
                List.of()), NOW);

        assertThat(t.problems()).isEmpty();
        assertThat(t.notes()).extracting(Problem::toString).containsExactly(
                "Ingress default/other: not for this controller (class), ignored",
                "Ingress default/web: backend default-web-80 has no ready endpoints");
    }

    @Test
    void ingressesWithoutNameOrMetadataAreSkipped() {
        Ingress nameless = new IngressBuilder().withNewMetadata().withNamespace("default").endMetadata()
                .withNewSpec().endSpec().build();
        Translation t = new IngressTranslator(new TranslatorConfig("nginx", "k8s.io/ingress-nginx", true, null,
                TranslatorConfig.DEFAULT_ANNOTATIONS_PREFIX))
                .translate(new ClusterState(List.of(nameless, new Ingress()), List.of(), List.of(), List.of(), List.of(),
                        List.of()), NOW);
        assertThat(t.table()).isEqualTo(RouteTable.EMPTY);
        assertThat(t.problems()).isEmpty();
        assertThat(t.notes()).extracting(Problem::message).containsOnly("Ingress without metadata.name skipped");
    }

    @Test
    void tenThousandIngressesTranslateCorrectly() {
        int n = 10_000;
        ClusterState state = LargeClusters.of(n);
        long start = System.nanoTime();
        Translation t = translator.translate(state, NOW);
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.println("translated " + n + " Ingresses x 3 paths in " + millis + " ms (first, cold run)");

        assertThat(t.problems()).isEmpty();
        RouteTable table = t.table();
        assertThat(table.hosts()).hasSize(n);
        for (int i : new int[] {0, 1, 9, 10, 4_999, 9_990, 9_999}) {
            String host = "host-" + i + ".test";
            String ns = LargeClusters.namespace(i);
            assertForward(table.decide(host, "/api/x", "http"), ns + "-svc-" + i + "-80",
                    LargeClusters.address(i, 1) + ":8080", LargeClusters.address(i, 2) + ":8080");
            assertForward(table.decide(host, "/health", "http"), ns + "-svc-" + (i + 1) + "-80",
                    LargeClusters.address(i + 1, 1) + ":8080", LargeClusters.address(i + 1, 2) + ":8080");
            assertThat(status(table.decide(host, "/health/x", "http"))).isEqualTo(404);
            if (i % 10 == 0) {
                assertThat(table.hosts().get(host).regexMode()).isTrue();
                assertForward(table.decide(host, "/V2/items", "http"), ns + "-svc-" + i + "-80",
                        LargeClusters.address(i, 1) + ":8080", LargeClusters.address(i, 2) + ":8080");
                assertThat(status(table.decide(host, "/static/x", "http"))).isEqualTo(404);
            } else {
                assertThat(table.hosts().get(host).regexMode()).isFalse();
                assertForward(table.decide(host, "/static/x", "http"), ns + "-svc-" + i + "-80",
                        LargeClusters.address(i, 1) + ":8080", LargeClusters.address(i, 2) + ":8080");
                assertThat(status(table.decide(host, "/API/x", "http"))).isEqualTo(404);
            }
        }
        assertThat(translator.translate(state, NOW).table()).isEqualTo(table);
    }

    private static void assertForward(RoutingDecision d, String backend, String... endpoints) {
        assertThat(d).isInstanceOfSatisfying(RoutingDecision.Forward.class, f -> {
            assertThat(f.backend().name()).isEqualTo(backend);
            assertThat(f.backend().endpoints()).extracting(Object::toString).containsExactly(endpoints);
        });
    }

    private static int status(RoutingDecision d) {
        return d instanceof RoutingDecision.Respond r ? r.status() : 200;
    }

    private static <T> List<T> shuffle(List<T> in, Random random) {
        List<T> out = new ArrayList<>(in);
        Collections.shuffle(out, random);
        return out;
    }
}
