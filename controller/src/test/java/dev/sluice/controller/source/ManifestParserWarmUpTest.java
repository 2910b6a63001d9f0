package dev.sluice.controller.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import org.junit.jupiter.api.Test;

/** The warm-up document is a valid manifest that reaches every kind the parser keeps, fields and all. */
class ManifestParserWarmUpTest {

    @Test
    void theWarmUpDocumentParsesIntoOneObjectOfEachKeptKind() throws Exception {
        ParsedManifest parsed = ManifestParser.parse("warm-up.yaml", ManifestParser.WARM_UP);

        assertThat(parsed.objects()).extracting(HasMetadata::getKind).containsExactly("Ingress", "IngressClass",
                "Service", "Endpoints", "EndpointSlice", "Secret", "ConfigMap");
        // nested structures were read, not left in additionalProperties: their deserializers were built
        var ingress = (io.fabric8.kubernetes.api.model.networking.v1.Ingress) parsed.objects().get(0);
        assertThat(ingress.getSpec().getRules().get(0).getHttp().getPaths().get(0).getBackend().getService()
                .getPort().getNumber()).isEqualTo(80);
        assertThat(ingress.getSpec().getTls().get(0).getSecretName()).isEqualTo("w");
        var slice = (io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice) parsed.objects().get(4);
        assertThat(slice.getEndpoints().get(0).getConditions().getReady()).isTrue();
    }
}
