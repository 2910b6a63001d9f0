package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.MirrorTarget;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RoutingDecision;
import io.fabric8.kubernetes.api.model.EndpointsBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code mirror-target}, {@code mirror-host}, {@code mirror-request-body} through the translator. */
class MirrorTranslationTest {
    private final IngressTranslator translator = new IngressTranslator(TranslatorConfig.DEFAULTS);

    @Test
    void theMirrorAnnotationsBecomeTheLocationsMirror() {
        Translation t = translate(Map.of("mirror-target", "https://shadow.example.com:8443$request_uri",
                "mirror-host", "shadow.internal", "mirror-request-body", "false"));
        assertThat(t.problems()).isEmpty();
        assertThat(options(t, "a.test").mirror()).isEqualTo(new MirrorTarget(true,
                Endpoint.of("shadow.example.com", 8443), "$request_uri", "shadow.internal", false));
        assertThat(options(t, "b.test").mirror()).isNull();
    }

    @Test
    void theHostDefaultsToTheTargetsAndTheBodyIsCopied() {
        Translation t = translate(Map.of("mirror-target", "http://10.0.0.7/shadow$is_args$args"));
        assertThat(t.problems()).isEmpty();
        MirrorTarget m = options(t, "a.test").mirror();
        assertThat(m.host()).isEqualTo("10.0.0.7");
        assertThat(m.endpoint()).isEqualTo(Endpoint.of("10.0.0.7", 80));
        assertThat(m.requestBody()).isTrue();
        assertThat(m.uri("/a/b?x=1", "a.test", "http")).isEqualTo("/shadow?x=1");
    }

    @Test
    void aBadTargetIsReportedAndNotMirrored() {
        for (String bad : List.of("ftp://x.example.com/", "shadow.example.com/$request_uri",
                "http://x.example.com/$remote_addr", "http:///path")) {
            Translation t = translate(Map.of("mirror-target", bad));
            assertThat(t.problems()).as(bad).singleElement().satisfies(p -> {
                assertThat(p.namespace() + "/" + p.name()).isEqualTo("default/upstream");
                assertThat(p.message()).contains("mirror-target").contains("no mirroring");
            });
            assertThat(options(t, "a.test").mirror()).as(bad).isNull();
            assertThat(options(t, "b.test").mirror()).isNull();
        }
    }

    private static RouteOptions options(Translation t, String host) {
        RoutingDecision d = t.table().decide(host, "/", "http");
        assertThat(d).isInstanceOf(RoutingDecision.Forward.class);
        return ((RoutingDecision.Forward) d).route().options();
    }

    private Translation translate(Map<String, String> annotations) {
        return translator.translate(new ClusterState(List.of(ingress("upstream", "a.test", annotations),
                ingress("open", "b.test", Map.of())),
                List.of(), List.of(new ServiceBuilder().withNewMetadata().withNamespace("default").withName("app")
                        .endMetadata().withNewSpec().addNewPort().withPort(80).endPort().endSpec().build()),
                List.of(), List.of(new EndpointsBuilder().withNewMetadata().withNamespace("default").withName("app")
                        .endMetadata().addNewSubset().addNewAddress().withIp("127.0.0.5").endAddress()
                        .addNewPort().withPort(8080).endPort().endSubset().build()),
                List.of()), Instant.now());
    }

    private static Ingress ingress(String name, String host, Map<String, String> annotations) {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("kubernetes.io/ingress.class", "nginx");
        annotations.forEach((k, v) -> all.put(TranslatorConfig.DEFAULT_ANNOTATIONS_PREFIX + "/" + k, v));
        return new IngressBuilder().withNewMetadata().withNamespace("default").withName(name)
                .withAnnotations(all).endMetadata()
                .withNewSpec().addNewRule().withHost(host).withNewHttp()
                .addNewPath().withPath("/").withPathType("Prefix").withNewBackend().withNewService()
                .withName("app").withNewPort().withNumber(80).endPort().endService().endBackend().endPath()
                .endHttp().endRule().endSpec().build();
    }
}
