package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.route.CompressionPolicy;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The ConfigMap's compression keys become the table's {@link CompressionPolicy}. */
class CompressionSettingsTest {

    private static CompressionSettings read(Map<String, String> data) {
        return CompressionSettings.fromConfigMap("ingress-nginx", "ingress-nginx-controller", data);
    }

    @Test
    void anEmptyConfigMapMeansIngressNginxDefaults() {
        CompressionSettings s = read(Map.of());
        assertThat(s.policy()).isEqualTo(CompressionPolicy.OFF);
        assertThat(s.policy().enabled()).isFalse();
        assertThat(s.policy().gzipLevel()).isEqualTo(1);
        assertThat(s.policy().gzipMinLength()).isEqualTo(256);
        assertThat(s.policy().brotliLevel()).isEqualTo(4);
        assertThat(s.policy().brotliMinLength()).isEqualTo(20);
        assertThat(s.policy().gzipTypes()).contains("application/json", "text/css", "image/svg+xml")
                .doesNotContain("application/xml+rss");
        assertThat(s.policy().brotliTypes()).contains("application/xml+rss", "application/json");
        assertThat(s.problems()).isEmpty();
    }

    @Test
    void everyKeyIsRead() {
        CompressionSettings s = read(Map.of(
                "use-gzip", "true",
                "gzip-level", "6",
                "gzip-min-length", "1000",
                "gzip-types", "application/json  text/css\napplication/JavaScript",
                "enable-brotli", "True",
                "brotli-level", "11",
                "brotli-min-length", "0",
                "brotli-types", "*"));
        assertThat(s.problems()).isEmpty();
        assertThat(s.policy()).isEqualTo(new CompressionPolicy(true, 6, 1000,
                Set.of("application/json", "text/css", "application/javascript"), true, 11, 0, Set.of("*")));
    }

    @Test
    void aBadValueIsAProblemAndThatKeyKeepsItsDefault() {
        CompressionSettings s = read(Map.of(
                "use-gzip", "yes please",
                "gzip-level", "10",
                "gzip-min-length", "-1",
                "gzip-types", "text/css notatype",
                "enable-brotli", "true",
                "brotli-level", "twelve",
                "brotli-min-length", "50"));
        assertThat(s.policy()).isEqualTo(new CompressionPolicy(false, 1, 256, CompressionPolicy.DEFAULT_GZIP_TYPES,
                true, 4, 50, CompressionPolicy.DEFAULT_BROTLI_TYPES));
        assertThat(s.problems()).hasSize(5).allSatisfy(p -> {
            assertThat(p.kind()).isEqualTo("ConfigMap");
            assertThat(p.namespace()).isEqualTo("ingress-nginx");
            assertThat(p.name()).isEqualTo("ingress-nginx-controller");
        });
        assertThat(s.problems()).extracting(Problem::message).anySatisfy(m -> assertThat(m)
                .startsWith("gzip-level: \"10\" is not an integer from 1 to 9"));
        assertThat(s.problems()).extracting(Problem::message).anySatisfy(m -> assertThat(m)
                .startsWith("gzip-types:").contains("notatype"));
    }

    @Test
    void blankValuesAreAbsent() {
        CompressionSettings s = read(Map.of("use-gzip", " ", "gzip-types", ""));
        assertThat(s.policy()).isEqualTo(CompressionPolicy.OFF);
        assertThat(s.problems()).isEmpty();
    }
}
