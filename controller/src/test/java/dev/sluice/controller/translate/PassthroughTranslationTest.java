package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EndpointsBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code ssl-passthrough} with and without {@code --enable-ssl-passthrough} (SPEC §10.4). */
class PassthroughTranslationTest {
    static final Instant NOW = Instant.parse("2026-12-01T00:00:00Z");

    static Ingress ingress(String name, String host, String path, boolean passthrough) {
        IngressBuilder b = new IngressBuilder().withNewMetadata().withNamespace("default").withName(name)
                .addToAnnotations("kubernetes.io/ingress.class", "nginx").endMetadata();
        if (passthrough) {
            b.editMetadata().addToAnnotations("nginx.ingress.kubernetes.io/ssl-passthrough", "true").endMetadata();
        }
        return b.withNewSpec().addNewRule().withHost(host).withNewHttp().addNewPath().withPath(path)
                .withPathType("Prefix").withNewBackend().withNewService().withName("app").withNewPort().withNumber(443)
                .endPort().endService().endBackend().endPath().endHttp().endRule().endSpec().build();
    }

    static Translation translate(boolean flag, Ingress... ingresses) {
        ClusterState state = new ClusterState(List.of(ingresses), List.of(),
                List.of(new ServiceBuilder().withNewMetadata().withNamespace("default").withName("app").endMetadata()
                        .withNewSpec().addNewPort().withPort(443).endPort().endSpec().build()),
                List.of(), List.of(new EndpointsBuilder().withNewMetadata().withNamespace("default").withName("app")
                        .endMetadata().addNewSubset().addNewAddress().withIp("127.0.0.5").endAddress()
                        .addNewPort().withPort(8443).endPort().endSubset().build()),
                List.of());
        return new IngressTranslator(TranslatorConfig.DEFAULTS.withSslPassthrough(flag)).translate(state, NOW);
    }

    @Test
    void aPassthroughHostPipesToTheBackendOfItsRootPath() {
        Translation t = translate(true, ingress("pass", "pass.test", "/", true), ingress("open", "open.test", "/", false));
        assertThat(t.problems()).isEmpty();
        assertThat(t.table().tls().passthrough("pass.test").backend().endpoints())
                .extracting(Object::toString).containsExactly("127.0.0.5:8443");
        assertThat(t.table().tls().passthrough("open.test")).isNull();
        // the passthrough upstream is the location's own, so publishing binds one balancer for both
        assertThat(t.table().tls().passthrough("pass.test"))
                .isSameAs(t.table().hosts().get("pass.test").routes().get(0).split().mainline());
    }

    @Test
    void withoutTheFlagTheAnnotationIsReportedAndIgnored() {
        Translation t = translate(false, ingress("pass", "pass.test", "/", true));
        assertThat(t.table().tls().passthrough("pass.test")).isNull();
        assertThat(t.problems()).singleElement().satisfies(p -> {
            assertThat(p.namespace() + "/" + p.name()).isEqualTo("default/pass");
            assertThat(p.message()).contains("--enable-ssl-passthrough");
        });
    }

    @Test
    void aHostWithoutARootPathOrAWildcardHostCannotPassThrough() {
        Translation t = translate(true, ingress("deep", "deep.test", "/api", true),
                ingress("wild", "*.wild.test", "/", true));
        assertThat(t.table().tls().passthrough("deep.test")).isNull();
        assertThat(t.problems()).extracting(Problem::message)
                .anySatisfy(m -> assertThat(m).contains("deep.test").contains("path /"))
                .anySatisfy(m -> assertThat(m).contains("*.wild.test"));
    }
}
