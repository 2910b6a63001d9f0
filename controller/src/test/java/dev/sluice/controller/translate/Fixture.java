package dev.sluice.controller.translate;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.sluice.controller.source.ManifestException;
import dev.sluice.controller.source.ManifestParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A tier-1 test fixture: one YAML file under {@code src/test/resources/fixtures/} holding
 * Kubernetes objects (Ingress, Service, EndpointSlice, Endpoints, IngressClass) and one or more
 * {@code kind: Expect} documents (ignored by {@link ManifestParser} as an unknown kind) that say
 * what the translation must do:
 *
 * <pre>
 * apiVersion: sluice.dev/test
 * kind: Expect
 * name: what this block checks          # optional, shown in the test name
 * config:                               # optional TranslatorConfig (defaults otherwise)
 *   watchIngressWithoutClass: true
 *   defaultBackendService: default/fallback
 *   defaultSslCertificate: default/fallback-tls
 * problems:                             # each entry must be a substring of one Problem
 *   - "default/bad: invalid regex"      # ("Ingress ns/name: message"); the count must match.
 *                                       # Absent: no problems at all.
 * cases:                                # requests and the routing decision expected
 *   - {host: foo.com, uri: /foo, backend: default-foo-80, upstreamUri: /foo}
 *   - {host: foo.com, uri: /bar, status: 404}
 *   - {host: foo.com, uri: /, status: 302, location: http://foo.com/app}
 *   - {host: foo.com, uri: /, scheme: https, backend: default-foo-80}   # scheme: http (default) | https
 *   - {host: foo.com, uri: /y, route: default/ing-a, endpoints: [127.0.0.1:8080]}
 *   - {host: foo.com, uri: /t, connectTimeout: 10s, readTimeout: 2m, nextUpstreamTries: 5}
 *   - {host: foo.com, uri: /, headers: {X-Canary: always}, cookies: {beta: never},
 *      canary: true, backend: default-foo-v2-80}     # request headers/cookies; canary side expected
 *   - {host: foo.com, uri: /, method: OPTIONS, headers: {Origin: "http://a.test"}, status: 204,
 *      corsOrigin: "http://a.test"}     # method (default GET); Access-Control-Allow-Origin expected
 *                                       # ("-": no CORS headers; absent: not checked)
 *   - {host: foo.com, uri: /, method: POST, contentLength: 2000000, status: 413}   # announced body size
 * </pre>
 *
 * A line {@code #include common/services-abcd.yaml} pulls in shared objects (Services a–d with
 * one endpoint each). A case with {@code backend}, {@code route}, {@code endpoints}, {@code upstreamUri} or
 * {@code forwardedPrefix} or {@code canary} expects the request to be forwarded ({@code backend}
 * is then the side that serves: the canary's backend when {@code canary: true}); a case with {@code status}
 * expects a local answer. Objects without {@code creationTimestamp} are older than everything
 * below them, as in manifest mode.
 */
record Fixture(String name, ClusterState state, List<Expect> expectations) {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

    /** One {@code kind: Expect} document. */
    record Expect(String apiVersion, String kind, String name, Config config, List<String> problems,
            List<Case> cases) {
        TranslatorConfig translatorConfig() {
            if (config == null) {
                return TranslatorConfig.DEFAULTS;
            }
            TranslatorConfig d = TranslatorConfig.DEFAULTS;
            return new TranslatorConfig(
                    config.ingressClass != null ? config.ingressClass : d.ingressClass(),
                    config.controllerClass != null ? config.controllerClass : d.controllerClass(),
                    config.watchIngressWithoutClass != null ? config.watchIngressWithoutClass : d.watchIngressWithoutClass(),
                    config.defaultBackendService,
                    config.annotationsPrefix != null ? config.annotationsPrefix : d.annotationsPrefix(),
                    config.defaultSslCertificate);
        }
    }

    record Config(String ingressClass, String controllerClass, Boolean watchIngressWithoutClass,
            String defaultBackendService, String annotationsPrefix, String defaultSslCertificate) {}

    /** One request and what must happen to it. */
    record Case(String host, String uri, String scheme, String backend, String route, List<String> endpoints,
            String upstreamUri, String forwardedPrefix, Integer status, String location, String connectTimeout,
            String sendTimeout, String readTimeout, Integer nextUpstreamTries, java.util.Map<String, String> headers,
            java.util.Map<String, String> cookies, Boolean canary, String method, String corsOrigin,
            Long contentLength) {
        boolean expectsForward() {
            return status == null;
        }

        @Override
        public String toString() {
            return (host == null ? "(no host)" : host) + " " + uri;
        }
    }

    /** Replaces each line {@code #include common/x.yaml} by that file (shared Services and slices). */
    private static String expandIncludes(String content) throws IOException {
        StringBuilder out = new StringBuilder(content.length());
        for (String line : content.split("\n", -1)) {
            if (line.startsWith("#include ")) {
                String resource = "/fixtures/" + line.substring("#include ".length()).trim();
                try (InputStream in = Fixture.class.getResourceAsStream(resource)) {
                    if (in == null) {
                        throw new IllegalArgumentException("no fixture include " + resource);
                    }
                    out.append("\n---\n").append(new String(in.readAllBytes(), StandardCharsets.UTF_8)).append("\n---\n");
                }
            } else {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }

    static Fixture load(String name) {
        String resource = "/fixtures/" + name;
        try (InputStream in = Fixture.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + resource);
            }
            String content = expandIncludes(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            ClusterState state = ManifestParser.parse(name, content).toClusterState();
            List<Expect> expects = new ArrayList<>();
            ObjectReader docs = YAML.readerFor(JsonNode.class);
            try (var it = docs.readValues(content)) {
                while (it.hasNext()) {
                    JsonNode doc = (JsonNode) it.next();
                    if (doc != null && "Expect".equals(doc.path("kind").asText())) {
                        expects.add(YAML.treeToValue(doc, Expect.class));
                    }
                }
            }
            return new Fixture(name, state, expects);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ManifestException e) {
            throw new IllegalStateException("fixture does not parse: " + e.getMessage(), e);
        }
    }
}
