package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.controller.source.ManifestParser;
import dev.sluice.gateway.access.AccessPolicy;
import dev.sluice.gateway.route.ErrorPages;
import dev.sluice.gateway.route.HeaderRewrites;
import dev.sluice.gateway.route.RoutingDecision;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code custom-http-errors}, {@code default-backend}, {@code upstream-vhost}, {@code server-alias},
 * {@code custom-headers}, {@code proxy-redirect-*} and {@code proxy-cookie-*} as the translator
 * reads them: what the locations get, and every bad value reported with the Ingress's
 * {@code namespace/name} while the rest keeps serving.
 */
class ResponseAnnotationsTranslationTest {
    private static final String BASE = """
            apiVersion: v1
            kind: Service
            metadata: {name: app, namespace: shop}
            spec: {ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: app, namespace: shop}
            subsets: [{addresses: [{ip: 10.0.0.1}], ports: [{port: 80}]}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: errors, namespace: shop}
            spec: {ports: [{port: 8080}]}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: errors, namespace: shop}
            subsets: [{addresses: [{ip: 10.0.0.9}], ports: [{port: 8080}]}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: global-errors, namespace: infra}
            spec: {ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: global-errors, namespace: infra}
            subsets: [{addresses: [{ip: 10.0.0.8}], ports: [{port: 80}]}]
            """;

    private static String ingress(String name, String host, String annotations) {
        return "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name
                + "\n  namespace: shop\n  annotations:\n" + annotations
                + "spec:\n  rules:\n    - host: " + host + "\n      http:\n        paths:\n"
                + "          - {path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}\n";
    }

    private static Translation translate(String yaml, String defaultBackendService) throws Exception {
        return translate(yaml, defaultBackendService, Instant.EPOCH);
    }

    private static Translation translate(String yaml, String defaultBackendService, Instant now) throws Exception {
        TranslatorConfig config = new TranslatorConfig("nginx", "k8s.io/ingress-nginx", true, defaultBackendService,
                TranslatorConfig.DEFAULT_ANNOTATIONS_PREFIX);
        return new IngressTranslator(config).translate(ManifestParser.parse("t.yaml", BASE + yaml).toClusterState(),
                now);
    }

    private static RoutingDecision.Forward forward(Translation t, String host) {
        return (RoutingDecision.Forward) t.table().decide(host, "/", "http");
    }

    @Test
    void errorPagesNameTheDefaultBackendServiceElseTheControllersDefault() throws Exception {
        Translation t = translate(ingress("own", "own.test", """
                    nginx.ingress.kubernetes.io/custom-http-errors: "404,503 , 500"
                    nginx.ingress.kubernetes.io/default-backend: errors
                """) + ingress("global", "global.test", """
                    nginx.ingress.kubernetes.io/custom-http-errors: "502"
                """), "infra/global-errors");
        assertThat(t.problems()).isEmpty();
        ErrorPages own = forward(t, "own.test").route().options().errorPages();
        assertThat(own.codes()).containsExactlyInAnyOrder(404, 500, 503);
        assertThat(own.backend().name()).isEqualTo("shop-errors-8080");
        assertThat(List.of(own.namespace(), own.ingressName(), own.serviceName(), own.servicePort()))
                .containsExactly("shop", "own", "app", "80");
        assertThat(own.replacesService()).isFalse();
        ErrorPages global = forward(t, "global.test").route().options().errorPages();
        assertThat(global.backend().name()).isEqualTo("infra-global-errors-80");
        assertThat(forward(t, "global.test").backend().name()).isEqualTo("shop-app-80");
    }

    @Test
    void headerAnnotationsBecomeTheLocationsRewrites() throws Exception {
        Translation t = translate(ingress("site", "site.test", """
                    nginx.ingress.kubernetes.io/upstream-vhost: internal.local:8080
                    nginx.ingress.kubernetes.io/custom-headers: shop/hdrs
                    nginx.ingress.kubernetes.io/proxy-redirect-from: http://internal.local/
                    nginx.ingress.kubernetes.io/proxy-redirect-to: /
                    nginx.ingress.kubernetes.io/proxy-cookie-domain: .internal.local site.test
                    nginx.ingress.kubernetes.io/server-alias: www.site.test,*.site.test
                """) + """
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: hdrs, namespace: shop}
                data: {X-A: "1", "bad header": x}
                """, null);
        assertThat(t.problems()).extracting(Problem::toString).containsExactly(
                "Ingress shop/site: custom-headers ConfigMap shop/hdrs: not a header name and value, skipped: "
                        + "bad header");
        HeaderRewrites h = forward(t, "site.test").route().options().headerRewrites();
        assertThat(h.upstreamHost()).isEqualTo("internal.local:8080");
        assertThat(h.responseHeaders()).containsExactly(java.util.Map.entry("X-A", "1"));
        assertThat(h.location("http://internal.local/a")).isEqualTo("/a");
        assertThat(h.setCookie("a=b; domain=INTERNAL.local")).isEqualTo("a=b; domain=site.test");
        assertThat(forward(t, "www.site.test").route().source()).isEqualTo("shop/site");
        assertThat(forward(t, "any.site.test").route().source()).isEqualTo("shop/site");
    }

    @Test
    void offAndDefaultRewriteNothing() throws Exception {
        Translation t = translate(ingress("a", "a.test", """
                    nginx.ingress.kubernetes.io/proxy-redirect-from: default
                    nginx.ingress.kubernetes.io/proxy-redirect-to: /x
                    nginx.ingress.kubernetes.io/proxy-cookie-domain: "off"
                    nginx.ingress.kubernetes.io/proxy-cookie-path: "off"
                """) + ingress("b", "b.test", """
                    nginx.ingress.kubernetes.io/proxy-redirect-from: http://x/
                    nginx.ingress.kubernetes.io/proxy-redirect-to: "off"
                """), null);
        assertThat(t.problems()).isEmpty();
        assertThat(forward(t, "a.test").route().options().headerRewrites()).isEqualTo(HeaderRewrites.NONE);
        assertThat(forward(t, "b.test").route().options().headerRewrites()).isEqualTo(HeaderRewrites.NONE);
    }

    @Test
    void badValuesAreReportedWithTheIngressAndTheRestServes() throws Exception {
        Translation t = translate(ingress("bad", "bad.test", """
                    nginx.ingress.kubernetes.io/custom-http-errors: "404,abc"
                    nginx.ingress.kubernetes.io/default-backend: Not_A_Name
                    nginx.ingress.kubernetes.io/upstream-vhost: $host
                    nginx.ingress.kubernetes.io/proxy-redirect-from: ~^http://(.*)$
                    nginx.ingress.kubernetes.io/proxy-redirect-to: /$1
                    nginx.ingress.kubernetes.io/proxy-cookie-path: one
                    nginx.ingress.kubernetes.io/proxy-cookie-domain: ~\\.a$ b
                    nginx.ingress.kubernetes.io/server-alias: ok.test, bad/alias
                """) + ingress("missing", "missing.test", """
                    nginx.ingress.kubernetes.io/default-backend: nowhere
                    nginx.ingress.kubernetes.io/custom-http-errors: "399"
                """), null);
        assertThat(t.problems()).extracting(Problem::toString).containsExactlyInAnyOrder(
                "Ingress shop/bad: invalid value \"404,abc\" for annotation nginx.ingress.kubernetes.io/"
                        + "custom-http-errors: expected statuses 400-599, comma separated; no error is intercepted",
                "Ingress shop/bad: invalid value \"Not_A_Name\" for annotation nginx.ingress.kubernetes.io/"
                        + "default-backend: expected the name of a Service in the Ingress's namespace; not used",
                "Ingress shop/bad: invalid value \"$host\" for annotation nginx.ingress.kubernetes.io/upstream-vhost: "
                        + "expected a host name (NGINX variables are not supported); the client's Host is sent",
                "Ingress shop/bad: invalid value \"~^http://(.*)$\" for annotation nginx.ingress.kubernetes.io/"
                        + "proxy-redirect-from: only a literal prefix is supported (no blanks, NGINX variables or "
                        + "regexes); not rewritten",
                "Ingress shop/bad: invalid value \"one\" for annotation nginx.ingress.kubernetes.io/proxy-cookie-path: "
                        + "expected off or \"from to\" (literal words; NGINX variables and regexes are not "
                        + "supported); not rewritten",
                "Ingress shop/bad: invalid value \"~\\.a$ b\" for annotation nginx.ingress.kubernetes.io/"
                        + "proxy-cookie-domain: expected off or \"from to\" (literal words; NGINX variables and "
                        + "regexes are not supported); not rewritten",
                "Ingress shop/bad: invalid value \"ok.test, bad/alias\" for annotation nginx.ingress.kubernetes.io/"
                        + "server-alias: not host names, ignored: bad/alias",
                "Ingress shop/missing: invalid value \"399\" for annotation nginx.ingress.kubernetes.io/"
                        + "custom-http-errors: expected statuses 400-599, comma separated; no error is intercepted",
                "Ingress shop/missing: default-backend service shop/nowhere not found or has no port; errors are "
                        + "answered by the built-in 404");
        RoutingDecision.Forward bad = forward(t, "bad.test");
        assertThat(bad.route().options().errorPages()).isNull();
        assertThat(bad.route().options().headerRewrites()).isEqualTo(HeaderRewrites.NONE);
        assertThat(bad.backend().name()).isEqualTo("shop-app-80");
        assertThat(forward(t, "ok.test").route().source()).isEqualTo("shop/bad");
    }

    @Test
    void customHeadersFromAMissingConfigMapOrAnotherNamespaceDenyTheLocations() throws Exception {
        Translation t = translate(ingress("missing", "m.test", """
                    nginx.ingress.kubernetes.io/custom-headers: nope
                """) + ingress("foreign", "f.test", """
                    nginx.ingress.kubernetes.io/custom-headers: kube-system/cluster-info
                """) + """
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: cluster-info, namespace: kube-system}
                data: {X-Secret: "1"}
                """, null);
        assertThat(t.problems()).extracting(Problem::toString).containsExactlyInAnyOrder(
                "Ingress shop/missing: custom-headers ConfigMap shop/nope not found; every location of this Ingress "
                        + "answers 503 (location denied)",
                "Ingress shop/foreign: custom-headers ConfigMap kube-system/cluster-info is in another namespace, "
                        + "which is refused; every location of this Ingress answers 503 (location denied)");
        for (String host : List.of("m.test", "f.test")) {
            RoutingDecision.Respond denied = (RoutingDecision.Respond) t.table().decide(host, "/", "http");
            assertThat(denied.status()).isEqualTo(503);
            assertThat(denied.route().options().access()).isInstanceOf(AccessPolicy.Denied.class);
        }
    }

    @Test
    void anAliasClaimedTwiceGoesToTheOldestAndARealHostBeatsAnAlias() throws Exception {
        Translation t = translate("""
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: first
                  namespace: shop
                  creationTimestamp: "2020-01-01T00:00:00Z"
                  annotations: {nginx.ingress.kubernetes.io/server-alias: "shared.test, real.test"}
                spec:
                  rules: [{host: one.test, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}]}}]
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: second
                  namespace: shop
                  creationTimestamp: "2021-01-01T00:00:00Z"
                  annotations: {nginx.ingress.kubernetes.io/server-alias: shared.test}
                spec:
                  rules: [{host: two.test, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: errors, port: {number: 8080}}}}]}}]
                ---
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: real
                  namespace: shop
                  creationTimestamp: "2022-01-01T00:00:00Z"
                spec:
                  rules: [{host: real.test, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: errors, port: {number: 8080}}}}]}}]
                """, null);
        assertThat(t.problems()).extracting(Problem::toString).containsExactlyInAnyOrder(
                "Ingress shop/second: server-alias shared.test of host two.test is already an alias of host one.test "
                        + "(the oldest wins); ignored",
                "Ingress shop/first: server-alias real.test is a host of its own; the alias is ignored");
        assertThat(forward(t, "shared.test").route().source()).isEqualTo("shop/first");
        assertThat(forward(t, "real.test").route().source()).isEqualTo("shop/real");
    }

    @Test
    void anAliasGetsItsHostsCertificateWhenTheCertificateCoversIt() throws Exception {
        dev.sluice.gateway.proxy.TestCertificates.Issued cert =
                dev.sluice.gateway.proxy.TestCertificates.issue("site.test", "site.test", "www.site.test");
        java.util.Base64.Encoder b64 = java.util.Base64.getEncoder();
        String secret = "---\napiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\n"
                + "metadata: {name: site-tls, namespace: shop}\ndata:\n"
                + "  tls.crt: " + b64.encodeToString(cert.certificatePem().getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                + "\n  tls.key: " + b64.encodeToString(cert.pkcs8KeyPem().getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                + "\n";
        String ing = ingress("site", "site.test", """
                    nginx.ingress.kubernetes.io/server-alias: www.site.test, other.test
                """) + "  tls: [{hosts: [site.test], secretName: site-tls}]\n";
        Translation t = translate(secret + ing, null, Instant.now());
        assertThat(t.problems()).isEmpty();
        dev.sluice.gateway.route.TlsCertificates tls = t.table().tls();
        assertThat(tls.find("www.site.test")).isEqualTo(tls.find("site.test")).isNotNull();
        assertThat(tls.configured("www.site.test")).isTrue(); // so ssl-redirect applies to it
        assertThat(tls.find("other.test")).isNull(); // not covered: the default certificate
        assertThat(tls.configured("other.test")).isFalse();
    }
}
