package dev.sluice.controller.translate;

import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPath;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPathBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;

/**
 * Random Ingresses, built from the hosts, paths, path types and annotation values that break
 * parsers (every declared annotation key, hostile and ordinary values): the translator never
 * throws, keeps control characters out of the table and the problems, and translating the same
 * objects twice, or in another order, gives equal tables.
 */
class TranslatorPropertiesTest {
    static final String PREFIX = "nginx.ingress.kubernetes.io/";

    @Property(tries = 150, shrinking = ShrinkingMode.BOUNDED)
    void theTranslatorNeverThrowsAndTheSameInputGivesAnEqualTable(@ForAll("clusters") List<Ingress> ingresses) {
        Translation first = translate(ingresses);
        Translation again = translate(ingresses);
        List<Ingress> reversed = new ArrayList<>(ingresses);
        java.util.Collections.reverse(reversed);
        Translation otherOrder = translate(reversed);

        assertThat(again.table()).isEqualTo(first.table());
        assertThat(otherOrder.table()).isEqualTo(first.table());
        assertThat(again.problems()).containsExactlyElementsOf(first.problems());
        assertThat(HostileIngressTest.controlCharacters(first.table())).isEmpty();
        assertThat(first.problems()).allSatisfy(p -> assertThat(HostileIngressTest.clean(p.toString())).isTrue());
    }

    private static Translation translate(List<Ingress> ingresses) {
        return new IngressTranslator(TranslatorConfig.DEFAULTS).translate(new ClusterState(ingresses, List.of(),
                List.of(service("default", "a", 80), service("default", "b", 80)),
                List.of(slice("default", "a-1", "a", 80, "10.0.0.1"), slice("default", "b-1", "b", 80, "10.0.0.2")),
                List.of(), List.of()), Instant.EPOCH);
    }

    @Provide
    Arbitrary<List<Ingress>> clusters() {
        Arbitrary<String> host = Arbitraries.of("a.example.com", "A.Example.com.", "*.example.com", "*", "a*.example.com",
                "", "a b.example.com", "a\r\nb.example.com", "xn--bcher-kva.example", "a.example.com:80",
                "x".repeat(300) + ".example.com", "a\u0000.example.com");
        Arbitrary<String> path = Arbitraries.of("/", "/a", "/a/", "/a/(.*)", "/a/[", "/(?i)a", "a", "", "//",
                "/a\r\nb", "/" + "(a|aa)*".repeat(20) + "b", "/a/$1", "/%2e%2e/", "/\u001b[0m", "/.*", "/a{1000}");
        Arbitrary<String> pathType = Arbitraries.of("Prefix", "Exact", "ImplementationSpecific", "Weird", null);
        Arbitrary<String> service = Arbitraries.of("a", "b", "missing");
        Arbitrary<HTTPIngressPath> ingressPath = Combinators.combine(path, pathType, service)
                .as((p, t, s) -> new HTTPIngressPathBuilder().withPath(p).withPathType(t).withNewBackend()
                        .withNewService().withName(s).withNewPort().withNumber(80).endPort().endService().endBackend()
                        .build());
        Arbitrary<String> key = Arbitraries.of(AnnotationKey.values()).map(AnnotationKey::suffix)
                .injectDuplicates(0.1).edgeCases(c -> c.add("configuration-snippet"));
        Arbitrary<String> value = Arbitraries.oneOf(
                Arbitraries.of("true", "false", "1", "0", "", " ", "10", "-1", "999999999999", "10s", "1m", "abc",
                        "/", "/app", "https://a.example.com/x", "http://a.example.com/$1", "10.0.0.0/8",
                        "10.0.0.0/8,::1", "default/secret", "secret", "GET, POST", "*", "cookie", "$request_uri",
                        "header-name", "always", "never", "x\r\nX-Injected: 1", "a\u0000b", "\u001b[31m",
                        "https://a\r\nb/", "(a+)+$"),
                Arbitraries.strings().ofMaxLength(20));
        Arbitrary<Map<String, String>> annotations = Combinators.combine(key, value).as(Map::entry).list().ofMaxSize(4)
                .map(l -> {
                    Map<String, String> m = new HashMap<>();
                    m.put("kubernetes.io/ingress.class", "nginx");
                    l.forEach(e -> m.put(PREFIX + e.getKey(), e.getValue()));
                    return m;
                });
        Arbitrary<Ingress> ingress = Combinators.combine(host, ingressPath.list().ofMinSize(1).ofMaxSize(3), annotations,
                Arbitraries.integers().between(0, 1000))
                .as((h, paths, a, n) -> new IngressBuilder()
                        .withNewMetadata().withNamespace("default").withName("ing-" + n)
                        .withCreationTimestamp(Instant.ofEpochSecond(1_700_000_000L + n).toString())
                        .withAnnotations(a).endMetadata()
                        .withNewSpec().addNewRule().withHost(h).withNewHttp().withPaths(paths).endHttp().endRule()
                        .endSpec().build());
        // distinct names: a snapshot never holds two objects of one name
        return ingress.list().ofMinSize(1).ofMaxSize(4).uniqueElements(i -> i.getMetadata().getName());
    }
}
