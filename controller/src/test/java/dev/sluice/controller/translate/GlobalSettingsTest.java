package dev.sluice.controller.translate;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.access.AccessPolicy;
import dev.sluice.gateway.access.ExternalAuth;
import dev.sluice.gateway.balance.BalancerSpec;
import dev.sluice.gateway.route.ListenerSettings;
import dev.sluice.gateway.route.ProxySettings;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTable;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The global ConfigMap ({@code --configmap}) as the translator reads it: fixtures in, the
 * published table's settings and the problems out. One test per key group.
 */
class GlobalSettingsTest {
    private static final String REF = "ingress-nginx/ingress-nginx-controller";
    private static final String P = "nginx.ingress.kubernetes.io/";

    private static ConfigMap configMap(String ns, String name, Map<String, String> data) {
        return new ConfigMapBuilder().withNewMetadata().withNamespace(ns).withName(name).endMetadata()
                .withData(data).build();
    }

    private static ConfigMap global(Map<String, String> data) {
        return configMap("ingress-nginx", "ingress-nginx-controller", data);
    }

    private static Ingress annotated(String name, String host, Map<String, String> annotations) {
        Ingress ing = ingress("default", name, host, "/", "web", 80);
        Map<String, String> all = new HashMap<>(ing.getMetadata().getAnnotations());
        annotations.forEach((k, v) -> all.put(P + k, v));
        ing.getMetadata().setAnnotations(all);
        return ing;
    }

    private static Translation translate(List<ConfigMap> configMaps, Ingress... ingresses) {
        ClusterState state = new ClusterState(List.of(ingresses), List.of(), List.of(service("default", "web", 80)),
                List.of(slice("default", "web-1", "web", 80, "10.0.0.1")), List.of(), List.of(), configMaps);
        return new IngressTranslator(TranslatorConfig.DEFAULTS.withGlobalConfigMap(REF)).translate(state,
                Instant.parse("2026-01-01T00:00:00Z"));
    }

    private static RouteOptions options(Translation t, String host) {
        Route r = t.table().findHost(host).routes().get(0);
        return r.options();
    }

    private static List<String> configMapProblems(Translation t) {
        return t.problems().stream().filter(p -> p.kind().equals("ConfigMap"))
                .map(p -> p.namespace() + "/" + p.name() + ": " + p.message()).toList();
    }

    @Test
    void withoutTheFlagOrTheConfigMapIngressNginxDefaultsApply() {
        Translation none = new IngressTranslator(TranslatorConfig.DEFAULTS).translate(new ClusterState(
                List.of(ingress("default", "a", "a.example.com", "/", "web", 80)), List.of(),
                List.of(service("default", "web", 80)), List.of(), List.of(), List.of(),
                List.of(global(Map.of("use-forwarded-headers", "true")))), Instant.EPOCH);
        assertThat(none.table().settings()).isEqualTo(ProxySettings.DEFAULTS);

        Translation missing = translate(List.of(), ingress("default", "a", "a.example.com", "/", "web", 80));
        assertThat(missing.table().settings()).isEqualTo(ProxySettings.DEFAULTS);
        assertThat(configMapProblems(missing)).singleElement().asString()
                .startsWith(REF + ": not found (--configmap)");
    }

    @Test
    void forwardedHeaderKeysBecomeTheTrustOfThePublishedTable() {
        Translation t = translate(List.of(global(Map.of("use-forwarded-headers", "true",
                "forwarded-for-header", "X-Real-Client", "compute-full-forwarded-for", "true",
                "proxy-real-ip-cidr", "10.0.0.0/8, 192.168.0.0/16"))), ingress("default", "a", "a.example.com", "/",
                "web", 80));
        var trust = t.table().settings().forwarded();
        assertThat(trust.useForwardedHeaders()).isTrue();
        assertThat(trust.enableRealIp()).isFalse();
        assertThat(trust.forwardedForHeader()).isEqualTo("X-Real-Client");
        assertThat(trust.computeFullForwardedFor()).isTrue();
        assertThat(trust.trustedProxies().contains("10.1.2.3")).isTrue();
        assertThat(trust.trustedProxies().contains("127.0.0.1")).isFalse();
        assertThat(t.problems()).isEmpty();
    }

    @Test
    void aBadValueIsAProblemNamingTheConfigMapAndKeyAndTheDefaultApplies() {
        Translation t = translate(List.of(global(Map.of("use-forwarded-headers", "yes please",
                "proxy-real-ip-cidr", "10.0.0.0/99", "hsts-max-age", "-1", "http-redirect-code", "303",
                "proxy-read-timeout", "soon", "proxy-body-size", "huge", "limit-req-status-code", "200"))),
                ingress("default", "a", "a.example.com", "/", "web", 80));
        assertThat(t.table().settings().forwarded().useForwardedHeaders()).isFalse();
        assertThat(t.table().settings().httpRedirectCode()).isEqualTo(308);
        assertThat(t.table().settings().hsts()).isEqualTo("max-age=31536000; includeSubDomains");
        RouteOptions o = options(t, "a.example.com");
        assertThat(o.readTimeout()).isEqualTo(RouteOptions.DEFAULT_READ_TIMEOUT);
        assertThat(o.maxBodySize()).isEqualTo(RouteOptions.DEFAULT_MAX_BODY_SIZE);
        assertThat(configMapProblems(t)).containsExactlyInAnyOrder(
                REF + ": invalid value \"yes please\" for key use-forwarded-headers: expected true or false; "
                        + "using the default false",
                REF + ": invalid value \"10.0.0.0/99\" for key proxy-real-ip-cidr: \"10.0.0.0/99\" has an invalid "
                        + "prefix length; using the default 0.0.0.0/0",
                REF + ": invalid value \"-1\" for key hsts-max-age: expected an integer from 0 to 2147483647; "
                        + "using the default 31536000",
                REF + ": invalid value \"303\" for key http-redirect-code: expected 301, 302, 307 or 308; "
                        + "using the default 308",
                REF + ": invalid value \"soon\" for key proxy-read-timeout: expected seconds or a duration such as "
                        + "30s, 500ms, 5m; using the default 60 (s)",
                REF + ": invalid value \"huge\" for key proxy-body-size: expected a size such as 8m, 512k or 0 "
                        + "(unlimited); using the default 1m",
                REF + ": invalid value \"200\" for key limit-req-status-code: expected an integer from 400 to 599; "
                        + "using the default 503");
    }

    @Test
    void annotationDefaultsComeFromTheConfigMapAndAnAnnotationStillWins() {
        Translation t = translate(List.of(global(Map.of("proxy-connect-timeout", "2", "proxy-read-timeout", "120s",
                "proxy-send-timeout", "90", "proxy-body-size", "8m", "proxy-next-upstream-tries", "5",
                "ssl-redirect", "false", "force-ssl-redirect", "true", "load-balance", "ewma",
                "proxy-http-version", "1.0"))),
                ingress("default", "plain", "plain.example.com", "/", "web", 80),
                annotated("own", "own.example.com", Map.of("proxy-read-timeout", "7", "proxy-body-size", "1k",
                        "force-ssl-redirect", "false", "load-balance", "round_robin")));
        RouteOptions plain = options(t, "plain.example.com");
        assertThat(plain.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(plain.readTimeout()).isEqualTo(Duration.ofSeconds(120));
        assertThat(plain.sendTimeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(plain.maxBodySize()).isEqualTo(8L << 20);
        assertThat(plain.nextUpstreamTries()).isEqualTo(5);
        assertThat(plain.tuning().http10()).isTrue();
        assertThat(plain.sslRedirect()).isFalse();
        assertThat(plain.forceSslRedirect()).isTrue();
        assertThat(t.table().findHost("plain.example.com").routes().get(0).split().mainline().spec().kind())
                .isEqualTo(BalancerSpec.Kind.EWMA);

        RouteOptions own = options(t, "own.example.com");
        assertThat(own.readTimeout()).isEqualTo(Duration.ofSeconds(7));
        assertThat(own.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(own.maxBodySize()).isEqualTo(1024);
        assertThat(own.forceSslRedirect()).isFalse();
        assertThat(t.problems()).isEmpty();
    }

    @Test
    void hstsKeysMakeTheHeaderValue() {
        assertThat(translate(List.of(global(Map.of("hsts-max-age", "600", "hsts-include-subdomains", "false",
                "hsts-preload", "true"))), ingress("default", "a", "a.example.com", "/", "web", 80))
                .table().settings().hsts()).isEqualTo("max-age=600; preload");
        assertThat(translate(List.of(global(Map.of("hsts", "false"))), ingress("default", "a", "a.example.com", "/",
                "web", 80)).table().settings().hsts()).isNull();
    }

    @Test
    void headerConfigMapsAreReadAndVariablesAreRefused() {
        Translation t = translate(List.of(
                global(Map.of("add-headers", "ingress-nginx/response-headers", "proxy-set-headers", "upstream-headers",
                        "hide-headers", "X-Powered-By, Server-Timing", "http-redirect-code", "301")),
                configMap("ingress-nginx", "response-headers", Map.of("X-Frame-Options", "DENY")),
                configMap("ingress-nginx", "upstream-headers", Map.of("X-Team", "blue", "X-Scheme-Copy", "$scheme"))),
                ingress("default", "a", "a.example.com", "/", "web", 80));
        ProxySettings s = t.table().settings();
        assertThat(s.responseHeaders()).containsExactly(Map.entry("X-Frame-Options", "DENY"));
        assertThat(s.upstreamHeaders()).containsExactly(Map.entry("X-Team", "blue"));
        assertThat(s.hiddenHeaders()).containsExactly("x-powered-by", "server-timing");
        assertThat(s.httpRedirectCode()).isEqualTo(301);
        assertThat(configMapProblems(t)).singleElement().asString().contains("key proxy-set-headers")
                .contains("X-Scheme-Copy").contains("NGINX variable");
        assertThat(GlobalSettings.referencedConfigMaps(REF, List.of(global(Map.of("add-headers",
                "ingress-nginx/response-headers", "proxy-set-headers", "upstream-headers")))))
                .containsExactly(REF, "ingress-nginx/response-headers", "ingress-nginx/upstream-headers");

        Translation missing = translate(List.of(global(Map.of("add-headers", "nowhere"))),
                ingress("default", "a", "a.example.com", "/", "web", 80));
        assertThat(configMapProblems(missing)).singleElement().asString()
                .contains("key add-headers").contains("ConfigMap ingress-nginx/nowhere not found");
    }

    @Test
    void blockListsAndStatusesAreRead() {
        Translation t = translate(List.of(global(Map.of("block-cidrs", "192.0.2.0/24, 2001:db8::/32",
                "block-user-agents", "~*bot, curl/7.1", "block-referers", "~evil\\.example",
                "limit-req-status-code", "429", "limit-conn-status-code", "503"))),
                annotated("limited", "a.example.com", Map.of("limit-rps", "5", "limit-connections", "2")));
        var blocks = t.table().settings().blocks();
        assertThat(blocks.blocks(new byte[] {(byte) 192, 0, 2, 7}, null, null)).isTrue();
        assertThat(blocks.blocks(new byte[] {10, 0, 0, 1}, "Mozilla", null)).isFalse();
        assertThat(blocks.blocks(new byte[] {10, 0, 0, 1}, "GoogleBot/2.1", null)).isTrue();
        assertThat(blocks.blocks(new byte[] {10, 0, 0, 1}, "CURL/7.1", null)).isTrue();
        assertThat(blocks.blocks(new byte[] {10, 0, 0, 1}, "curl/7.10", null)).isFalse();
        assertThat(blocks.blocks(new byte[] {10, 0, 0, 1}, null, "https://evil.example/x")).isTrue();
        assertThat(blocks.unusable()).isNull();
        assertThat(configMapProblems(t)).isEmpty();
        AccessPolicy.Guarded g = (AccessPolicy.Guarded) options(t, "a.example.com").access();
        assertThat(g.limits().rejectStatus()).isEqualTo(429);
        assertThat(g.limits().connectionRejectStatus()).isEqualTo(503);
    }

    @Test
    void globalAuthProtectsEveryLocationExceptThoseThatOptOutOrHaveTheirOwn() {
        Translation t = translate(List.of(global(Map.of("global-auth-url", "http://auth.example/check",
                "global-auth-signin", "https://login.example/start", "global-auth-response-headers", "X-User"))),
                ingress("default", "plain", "plain.example.com", "/", "web", 80),
                annotated("optout", "optout.example.com", Map.of("enable-global-auth", "false")),
                annotated("own", "own.example.com", Map.of("auth-url", "http://other.example/check")),
                annotated("ranges", "ranges.example.com", Map.of("allowlist-source-range", "10.0.0.0/8")),
                annotated("basic", "basic.example.com", Map.of("auth-type", "basic", "auth-secret", "missing")));
        AccessPolicy.Guarded plain = (AccessPolicy.Guarded) options(t, "plain.example.com").access();
        assertThat(((ExternalAuth) plain.authentication()).url().toString())
                .isEqualTo("http://auth.example/check");
        assertThat(((ExternalAuth) plain.authentication()).signin().source())
                .isEqualTo("https://login.example/start");
        assertThat(options(t, "optout.example.com").access()).isEqualTo(AccessPolicy.OPEN);
        AccessPolicy.Guarded own = (AccessPolicy.Guarded) options(t, "own.example.com").access();
        assertThat(((ExternalAuth) own.authentication()).url().toString())
                .isEqualTo("http://other.example/check");
        AccessPolicy.Guarded ranges = (AccessPolicy.Guarded) options(t, "ranges.example.com").access();
        assertThat(ranges.allow()).isNotNull();
        assertThat(ranges.authentication()).isInstanceOf(ExternalAuth.class);
        // the missing Secret denies already; never open
        assertThat(options(t, "basic.example.com").access()).isInstanceOf(AccessPolicy.Denied.class);
        assertThat(configMapProblems(t)).isEmpty();
    }

    @Test
    void aBadGlobalAuthValueDeniesInsteadOfFailingOpen() {
        Translation t = translate(List.of(global(Map.of("global-auth-url", "not a url", "global-auth-method",
                "FETCH"))), ingress("default", "plain", "plain.example.com", "/", "web", 80),
                annotated("optout", "optout.example.com", Map.of("enable-global-auth", "false")));
        assertThat(options(t, "plain.example.com").access()).isInstanceOf(AccessPolicy.Denied.class);
        assertThat(((AccessPolicy.Denied) options(t, "plain.example.com").access()).reason())
                .contains("ConfigMap " + REF).contains("global-auth-url");
        assertThat(options(t, "optout.example.com").access()).isEqualTo(AccessPolicy.OPEN);
        assertThat(configMapProblems(t)).isNotEmpty()
                .allSatisfy(p -> assertThat(p).contains("key global-auth-").contains("answers 503"));
    }

    @Test
    void aBadBlockListEntryBlocksEveryRequestInsteadOfLettingInWhomItNames() {
        for (Map<String, String> data : List.of(Map.of("block-cidrs", "192.0.2.0/24, 127.0.0.1/33"),
                Map.of("block-user-agents", "~*bot, ~(unclosed"), Map.of("block-referers", "~(unclosed"))) {
            Translation t = translate(List.of(global(data)), ingress("default", "a", "a.example.com", "/", "web", 80));
            var blocks = t.table().settings().blocks();
            assertThat(blocks.isEmpty()).as(data.toString()).isFalse();
            assertThat(blocks.unusable()).as(data.toString()).isNotNull();
            assertThat(configMapProblems(t)).as(data.toString()).singleElement()
                    .satisfies(p -> assertThat(p).contains(data.keySet().iterator().next()).contains("answers 503"));
        }
    }

    @Test
    void anInvalidAnnotationFallsBackToTheConfigMapsValueNotTheBuiltInDefault() {
        Translation t = translate(List.of(global(Map.of("proxy-body-size", "8k", "proxy-read-timeout", "1"))),
                annotated("typo", "typo.example.com", Map.of("proxy-body-size", "12q", "proxy-read-timeout", "5x")),
                annotated("own", "own.example.com", Map.of("proxy-body-size", "16k")));
        RouteOptions typo = options(t, "typo.example.com");
        assertThat(typo.maxBodySize()).isEqualTo(8 * 1024);
        assertThat(typo.readTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(options(t, "own.example.com").maxBodySize()).isEqualTo(16 * 1024);
        assertThat(t.problems()).filteredOn(p -> p.name().equals("typo")).hasSize(2)
                .allSatisfy(p -> assertThat(p.message()).contains("using the ConfigMap's value"));
    }

    @Test
    void theConfigMapsSourceListsProtectEveryLocationUnlessAnAnnotationReplacesThem() {
        Translation t = translate(List.of(global(Map.of("whitelist-source-range", "10.0.0.0/8",
                "denylist-source-range", "10.1.0.0/16"))),
                ingress("default", "plain", "plain.example.com", "/", "web", 80),
                annotated("own", "own.example.com", Map.of("allowlist-source-range", "192.168.0.0/16")));
        AccessPolicy.Guarded plain = (AccessPolicy.Guarded) options(t, "plain.example.com").access();
        assertThat(plain.sourceAllowed(new byte[] {10, 2, 3, 4})).isTrue();
        assertThat(plain.sourceAllowed(new byte[] {127, 0, 0, 1})).isFalse();
        assertThat(plain.sourceAllowed(new byte[] {10, 1, 3, 4})).isFalse();
        AccessPolicy.Guarded own = (AccessPolicy.Guarded) options(t, "own.example.com").access();
        assertThat(own.sourceAllowed(new byte[] {(byte) 192, (byte) 168, 1, 1})).isTrue();
        assertThat(own.sourceAllowed(new byte[] {10, 2, 3, 4})).isFalse();
        assertThat(own.sourceAllowed(new byte[] {10, 1, 3, 4})).isFalse(); // the global denylist still applies
        assertThat(configMapProblems(t)).isEmpty();
    }

    @Test
    void aBadSourceListInTheConfigMapDeniesInsteadOfFailingOpen() {
        Translation t = translate(List.of(global(Map.of("whitelist-source-range", "10.0.0.300/8"))),
                ingress("default", "plain", "plain.example.com", "/", "web", 80),
                annotated("own", "own.example.com", Map.of("whitelist-source-range", "10.0.0.0/8")));
        assertThat(options(t, "plain.example.com").access()).isInstanceOf(AccessPolicy.Denied.class);
        assertThat(options(t, "own.example.com").access()).isInstanceOf(AccessPolicy.Guarded.class);
        assertThat(configMapProblems(t)).singleElement().satisfies(p -> assertThat(p)
                .contains("key whitelist-source-range").contains("answers 503").containsOnlyOnce("503"));
        // the denied Ingress is told where the list came from: it has no such annotation
        assertThat(((AccessPolicy.Denied) options(t, "plain.example.com").access()).reason())
                .contains("ConfigMap " + REF + " key whitelist-source-range").doesNotContain("annotation");
        assertThat(t.problems()).filteredOn(p -> p.name().equals("plain")).singleElement()
                .satisfies(p -> assertThat(p.message()).contains("ConfigMap " + REF + " key whitelist-source-range"));
    }

    @Test
    void unsupportedAndNotAppliedKeysAreReportedOnce() {
        Translation t = translate(List.of(global(Map.of("worker-processes", "4", "server-snippet", "x",
                "client-header-timeout", "75", "log-format-upstream", "$remote_addr", "use-gzip", "true",
                "allow-snippet-annotations", "true"))), ingress("default", "a", "a.example.com", "/", "web", 80));
        List<String> problems = configMapProblems(t);
        assertThat(problems).contains(REF + ": keys not supported by Sluice, ignored: server-snippet, worker-processes");
        assertThat(problems).noneSatisfy(p -> assertThat(p).contains("client-header-timeout")); // applied (listener)
        assertThat(problems).anySatisfy(p -> assertThat(p).contains("key log-format-upstream: accepted, not applied"));
        assertThat(problems).noneSatisfy(p -> assertThat(p).contains("use-gzip")); // read by CompressionSettings
        assertThat(problems).anySatisfy(p -> assertThat(p).contains("key allow-snippet-annotations")
                .contains("never run"));
        assertThat(problems).hasSize(3);
        // a second translation of the same state yields the same problems: the sync loop logs each once
        assertThat(configMapProblems(translate(List.of(global(Map.of("worker-processes", "4", "server-snippet", "x",
                "client-header-timeout", "75", "log-format-upstream", "$remote_addr", "use-gzip", "true",
                "allow-snippet-annotations", "true"))), ingress("default", "a", "a.example.com", "/", "web", 80))))
                .isEqualTo(problems);
    }

    @Test
    void multiAcceptIsKnownAndReportedAsAlwaysOn() {
        List<String> problems = configMapProblems(translate(List.of(global(Map.of("enable-multi-accept", "false"))),
                ingress("default", "a", "a.example.com", "/", "web", 80)));
        assertThat(problems).singleElement().satisfies(p -> assertThat(p)
                .contains("key enable-multi-accept: not applied").contains("every waiting connection"));
    }

    @Test
    void listenerKeysAreReadForNewConnections() {
        ListenerSettings s = translate(List.of(global(Map.of("use-proxy-protocol", "true", "keep-alive", "30",
                "client-body-timeout", "2m", "keep-alive-requests", "100", "client-header-timeout", "15"))),
                ingress("default", "a", "a.example.com", "/", "web", 80)).table().settings().listener();
        assertThat(s.proxyProtocol()).isTrue();
        assertThat(s.clientHeaderTimeout()).isEqualTo(Duration.ofSeconds(15));
        assertThat(s.keepAliveTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.clientBodyTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(s.keepAliveRequests()).isEqualTo(100);
        Translation bad = translate(List.of(global(Map.of("keep-alive", "0"))),
                ingress("default", "a", "a.example.com", "/", "web", 80));
        assertThat(bad.table().settings().listener().keepAliveTimeout()).isNull();
        assertThat(configMapProblems(bad)).singleElement().asString().contains("\"0\" for key keep-alive");

        ListenerSettings buffers = translate(List.of(global(Map.of("large-client-header-buffers", "4 16k"))),
                ingress("default", "a", "a.example.com", "/", "web", 80)).table().settings().listener();
        assertThat(buffers.maxRequestLine()).isEqualTo(16 * 1024);
        assertThat(buffers.maxHeaderSize()).isEqualTo(64 * 1024);
        Translation badBuffers = translate(List.of(global(Map.of("large-client-header-buffers", "16k"))),
                ingress("default", "a", "a.example.com", "/", "web", 80));
        assertThat(badBuffers.table().settings().listener().maxHeaderSize()).isZero();
        assertThat(configMapProblems(badBuffers)).singleElement().asString()
                .contains("key large-client-header-buffers").contains("using the default 4 8k");
    }

    @Test
    void theDefaultBackendTakesTheConfigMapsTimeouts() {
        ClusterState state = new ClusterState(List.of(), List.of(), List.of(service("default", "fallback", 80)),
                List.of(slice("default", "fallback-1", "fallback", 80, "10.0.0.9")), List.of(), List.of(),
                List.of(global(Map.of("proxy-read-timeout", "300"))));
        Translation t = new IngressTranslator(new TranslatorConfig("nginx", "k8s.io/ingress-nginx", false,
                "default/fallback", "nginx.ingress.kubernetes.io").withGlobalConfigMap(REF))
                .translate(state, Instant.EPOCH);
        RouteTable table = t.table();
        assertThat(table.catchAll().fallback().options().readTimeout()).isEqualTo(Duration.ofSeconds(300));
    }

    @Test
    void customHttpErrorsBecomeTheAnnotationsDefaultAndABadListIsReportedOnce() {
        List<Problem> problems = new ArrayList<>();
        GlobalSettings g = GlobalSettings.parse(REF, List.of(global(Map.of("custom-http-errors", "404, 503,abc"))),
                "nginx.ingress.kubernetes.io", new SecretIndex(List.of()), problems::add);
        assertThat(g.customHttpErrors()).containsExactly(404, 503);
        assertThat(problems).extracting(Problem::message).containsExactly(
                "invalid value \"404, 503,abc\" for key custom-http-errors: expected statuses 400-599, comma separated;"
                        + " no error is intercepted; using the default —");
        assertThat(g.annotationDefaults()).doesNotContainKey("custom-http-errors");

        GlobalSettings good = GlobalSettings.parse(REF, List.of(global(Map.of("custom-http-errors", "404,503"))),
                "nginx.ingress.kubernetes.io", new SecretIndex(List.of()), p -> { });
        assertThat(good.annotationDefaults()).containsEntry("custom-http-errors", "404,503");
    }

    @Test
    void theRawDataStaysAvailableForOtherParsers() {
        List<Problem> problems = new ArrayList<>();
        GlobalSettings g = GlobalSettings.parse(REF, List.of(global(Map.of("use-gzip", "true", "gzip-level", "5"))),
                "nginx.ingress.kubernetes.io", new SecretIndex(List.of()), problems::add);
        assertThat(g.data()).containsEntry("use-gzip", "true").containsEntry("gzip-level", "5");
        assertThat(g.source()).isEqualTo(REF);
    }
}
