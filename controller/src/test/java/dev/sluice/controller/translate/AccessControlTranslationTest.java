package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.access.AccessPolicy;
import dev.sluice.gateway.access.Authentication;
import dev.sluice.gateway.access.ExternalAuth;
import dev.sluice.gateway.proxy.TestCertificates;
import dev.sluice.gateway.route.ClientCertificateAuth;
import dev.sluice.gateway.route.RoutingDecision;
import io.fabric8.kubernetes.api.model.EndpointsBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Fail closed, as the translator guarantees it: every access-control annotation, given a value
 * Sluice cannot honour, denies the Ingress's locations (503) and reports why; the other Ingresses
 * are unaffected; a missing Secret that appears opens the location.
 */
class AccessControlTranslationTest {
    private static final String P = TranslatorConfig.DEFAULT_ANNOTATIONS_PREFIX + "/";
    private static final String GARBAGE = "\"not valid\" \u2603";
    private static final String CA = TestCertificates.issue("client-ca").certificatePem();

    private final IngressTranslator translator = new IngressTranslator(TranslatorConfig.DEFAULTS);

    /** Valid configurations, one per family; each key of {@link AccessControl#KEYS} is in one. */
    private static final List<Map<String, String>> VALID = List.of(
            Map.of("auth-type", "basic", "auth-secret", "basic-auth", "auth-secret-type", "auth-file",
                    "auth-realm", "Protected"),
            Map.of("auth-type", "digest", "auth-secret", "digest-auth"),
            Map.of("auth-type", "basic", "auth-secret", "default/basic-map", "auth-secret-type", "auth-map"),
            orderedMap("auth-url", "http://127.0.0.1:9/auth", "auth-method", "POST",
                    "auth-signin", "https://login.test/start", "auth-signin-redirect-param", "return_to",
                    "auth-response-headers", "X-User, X-Email", "auth-request-redirect", "/after",
                    "auth-cache-key", "$remote_addr$http_authorization", "auth-cache-duration", "200 202 5m, 401 1m",
                    "auth-always-set-cookie", "true", "auth-keepalive", "4", "auth-keepalive-requests", "100",
                    "auth-keepalive-timeout", "30s", "auth-keepalive-share-vars", "false",
                    "enable-global-auth", "false"),
            Map.of("auth-tls-secret", "client-ca", "auth-tls-verify-client", "optional", "auth-tls-verify-depth", "2",
                    "auth-tls-error-page", "https://errors.test/cert", "auth-tls-pass-certificate-to-upstream", "true"),
            orderedMap("allowlist-source-range", "10.0.0.0/8, 2001:db8::/32", "denylist-source-range", "10.1.0.0/16",
                    "limit-rps", "5", "limit-rpm", "100", "limit-burst-multiplier", "3", "limit-connections", "2",
                    "limit-allowlist", "127.0.0.1", "limit-rate", "100", "limit-rate-after", "10", "satisfy", "any"),
            Map.of("whitelist-source-range", "192.168.0.0/16", "limit-whitelist", "127.0.0.0/8", "limit-rps", "1",
                    "auth-type", "basic", "auth-secret", "basic-auth", "satisfy", "all"));

    @Test
    void everyAccessControlKeyIsWalked() {
        List<String> walked = new ArrayList<>();
        VALID.forEach(m -> walked.addAll(m.keySet()));
        assertThat(walked).containsAll(AccessControl.KEYS);
    }

    @Test
    void theValidConfigurationsAreHonouredNotDenied() {
        for (Map<String, String> valid : VALID) {
            Translation t = translate(ingress("protected", "a.test", valid), true);
            assertThat(t.problems()).as(valid.toString()).isEmpty();
            assertThat(t.table().decide("a.test", "/", "http")).as(valid.toString())
                    .isInstanceOf(RoutingDecision.Forward.class);
        }
    }

    @Test
    void anInvalidValueOfAnyAccessControlAnnotationDeniesTheLocation() {
        for (Map<String, String> valid : VALID) {
            for (String key : valid.keySet()) {
                Map<String, String> bad = new TreeMap<>(valid);
                bad.put(key, GARBAGE);
                assertDenied(bad, key);
                // and alone, without the rest of its configuration
                assertDenied(Map.of(key, GARBAGE), key);
            }
        }
    }

    @Test
    void annotationsOfTheFamiliesThatSluiceDoesNotImplementDenyTheLocation() {
        for (String key : List.of("auth-snippet", "auth-tls-match-cn", "auth-proxy-set-headers", "global-rate-limit",
                "global-rate-limit-window", "limit-something-new", "auth-something-new",
                "something-source-range")) {
            assertDenied(Map.of(key, "value"), key);
        }
    }

    @Test
    void authUrlMayTakeItsHostFromTheRequestOnlyWhereTheIngressNamesTheHost() {
        Map<String, String> oauth2 = Map.of("auth-url", "https://$host/oauth2/auth",
                "auth-signin", "https://$host/oauth2/start?rd=$escaped_request_uri");
        Translation t = translate(ingress("protected", "a.test", oauth2), true);
        assertThat(t.problems()).isEmpty();
        AccessPolicy.Guarded g = (AccessPolicy.Guarded) ((RoutingDecision.Forward) t.table()
                .decide("a.test", "/", "http")).route().options().access();
        assertThat(((ExternalAuth) g.authentication()).url().variableHost()).isTrue();
        // a rule without a host: the client's Host would choose the auth service
        t = translate(ingress("protected", "", oauth2), true);
        assertThat(((RoutingDecision.Respond) t.table().decide("a.test", "/", "http")).status()).isEqualTo(503);
        assertThat(t.problems()).anySatisfy(p -> assertThat(p.message()).contains("auth-url").contains("503"));
        // variables NGINX has but Sluice does not expand are refused, not sent as text
        assertDenied(Map.of("auth-url", "http://auth.test/check?t=$request_time"), "auth-url");
        assertDenied(Map.of("auth-url", "http://auth.test/check", "auth-signin", "https://x.test/?t=$msec"),
                "auth-signin");
    }

    @Test
    void aMisspelledAccessControlKeyDeniesTheLocationAndNamesTheKeyMeant() {
        Map<String, String> meant = orderedMap("Auth-Type", "auth-type", "auth_url", "auth-url",
                "whitelist-source-ranges", "whitelist-source-range", "allowlist_source_range", "allowlist-source-range",
                "denylist-source-ranges", "denylist-source-range", "limit_rps", "limit-rps", "limits-rps", "limit-rps",
                "blacklist-source-range", null, "Satisfy", "satisfy");
        meant.forEach((typo, key) -> {
            Translation t = translate(ingress("protected", "a.test", Map.of(typo, "10.0.0.0/8")), true);
            assertThat(t.table().decide("a.test", "/", "http")).as(typo).isInstanceOfSatisfying(
                    RoutingDecision.Respond.class, r -> assertThat(r.status()).isEqualTo(503));
            if (key != null) {
                assertThat(t.problems()).as(typo).anySatisfy(p -> assertThat(p.message())
                        .contains(P + typo).contains("did you mean " + P + key + "?"));
            }
        });
    }

    @Test
    void aSnippetThatWouldHaveControlledAccessDeniesTheLocation() {
        assertDenied(Map.of("configuration-snippet", "allow 10.0.0.0/8;\ndeny all;"), "configuration-snippet");
        assertDenied(Map.of("server-snippet", "location /admin { deny all; }"), "server-snippet");
        assertDenied(Map.of("configuration-snippet", "if ($http_x_key != \"s3cret\") { return 403; }"),
                "configuration-snippet");
        assertDenied(Map.of("configuration-snippet", "auth_basic \"x\";\nauth_basic_user_file /etc/htpasswd;"),
                "configuration-snippet");
        // snippets without such directives are reported and ignored; the location is served
        Translation t = translate(ingress("protected", "a.test", Map.of("configuration-snippet",
                "more_set_headers \"X-Frame-Options: deny\";\nadd_header X-Frame-Options deny;\nproxy_set_header X-A b;\n"
                        + "auth_request_set $token $upstream_http_x_auth_request_access_token;")),
                true);
        assertThat(t.table().decide("a.test", "/", "http")).isInstanceOf(RoutingDecision.Forward.class);
        assertThat(t.problems()).anySatisfy(p -> assertThat(p.message()).contains("snippet").contains("ignored"));
    }

    @Test
    void incompleteConfigurationsThatWouldLeaveTheLocationOpenAreDenied() {
        assertDenied(Map.of("auth-secret", "basic-auth"), "auth-secret");
        assertDenied(Map.of("auth-realm", "x"), "auth-realm");
        assertDenied(Map.of("auth-signin", "https://login.test"), "auth-signin");
        assertDenied(Map.of("auth-response-headers", "X-User"), "auth-response-headers");
        assertDenied(Map.of("auth-type", "basic"), "auth-secret");
        assertDenied(Map.of("auth-type", "basic", "auth-url", "http://a.test/"), "auth-type");
        assertDenied(Map.of("auth-url", "http://a.test/", "auth-cache-duration", "200 5m"), "auth-cache-duration");
        assertDenied(Map.of("auth-tls-verify-client", "on"), "auth-tls-secret");
        assertDenied(Map.of("allowlist-source-range", ""), "allowlist-source-range");
        assertDenied(Map.of("limit-rps", "-1"), "limit-rps");
        assertDenied(Map.of("allowlist-source-range", "example.com"), "allowlist-source-range");
        assertDenied(Map.of("denylist-source-range", "10.0.0.0/33"), "denylist-source-range");
    }

    @Test
    void aConstantAuthCacheKeyIsDeniedBecauseItWouldShareOneClientsAnswerWithAll() {
        assertDenied(Map.of("auth-url", "http://a.test/", "auth-cache-key", "everyone"), "auth-cache-key");
    }

    @Test
    void missingAndMalformedSecretsDenyTheLocation() {
        assertDenied(Map.of("auth-type", "basic", "auth-secret", "nope"), "auth-secret");
        assertDenied(Map.of("auth-type", "basic", "auth-secret", "broken-auth"), "auth-secret");
        assertDenied(Map.of("auth-type", "basic", "auth-secret", "no-auth-key"), "auth-secret");
        assertDenied(Map.of("auth-type", "basic", "auth-secret", "other/basic-auth"), "auth-secret");
        assertDenied(Map.of("auth-tls-secret", "nope"), "auth-tls-secret");
        assertDenied(Map.of("auth-tls-secret", "basic-auth"), "auth-tls-secret"); // no ca.crt
        assertDenied(Map.of("auth-tls-secret", "bad-ca"), "auth-tls-secret");
    }

    @Test
    void aSecretThatAppearsLaterOpensTheLocation() {
        Map<String, String> basic = Map.of("auth-type", "basic", "auth-secret", "basic-auth");
        Translation before = translate(ingress("protected", "a.test", basic), false);
        assertThat(((RoutingDecision.Respond) before.table().decide("a.test", "/", "http")).status()).isEqualTo(503);
        Translation after = translate(ingress("protected", "a.test", basic), true);
        assertThat(after.table().decide("a.test", "/", "http")).isInstanceOf(RoutingDecision.Forward.class);
        assertThat(after.table().hosts().get("a.test").routes().get(0).options().access())
                .isInstanceOfSatisfying(AccessPolicy.Guarded.class,
                        g -> assertThat(g.authentication()).isInstanceOf(Authentication.Basic.class));
    }

    @Test
    void theParsedPoliciesCarryTheAnnotationValues() {
        Translation t = translate(ingress("protected", "a.test", VALID.get(3)), true);
        AccessPolicy.Guarded g = (AccessPolicy.Guarded) t.table().hosts().get("a.test").routes().get(0).options()
                .access();
        ExternalAuth e = (ExternalAuth) g.authentication();
        assertThat(e.url().toString()).isEqualTo("http://127.0.0.1:9/auth");
        assertThat(e.method()).isEqualTo("POST");
        assertThat(e.signinRedirectParam()).isEqualTo("return_to");
        assertThat(e.responseHeaders()).containsExactly("X-User", "X-Email");
        assertThat(e.keepalive()).isEqualTo(4);
        assertThat(e.alwaysSetCookie()).isTrue();

        t = translate(ingress("protected", "a.test", VALID.get(5)), true);
        g = (AccessPolicy.Guarded) t.table().hosts().get("a.test").routes().get(0).options().access();
        assertThat(g.satisfyAny()).isTrue();
        assertThat(g.sourceAllowed(new byte[] {10, 2, 3, 4})).isTrue();
        assertThat(g.sourceAllowed(new byte[] {10, 1, 3, 4})).isFalse(); // denied before allowed
        assertThat(g.sourceAllowed(new byte[] {11, 2, 3, 4})).isFalse();
        assertThat(g.limits().zone()).isEqualTo("default/protected");
        assertThat(g.limits().connections()).isEqualTo(2);
        assertThat(g.limits().rps().burst()).isEqualTo(15);

        t = translate(ingress("protected", "a.test", VALID.get(4)), true);
        ClientCertificateAuth c = t.table().tls().clientAuth("a.test");
        assertThat(c.mode()).isEqualTo(ClientCertificateAuth.Mode.OPTIONAL);
        assertThat(c.verifyDepth()).isEqualTo(2);
        assertThat(c.passCertificateToUpstream()).isTrue();
    }

    @Test
    void clientCertificatesNeedHostsSoAHostlessIngressWithThemIsDenied() {
        Ingress hostless = ingress("protected", "", VALID.get(4));
        Translation t = translate(hostless, true);
        assertThat(((RoutingDecision.Respond) t.table().decide("a.test", "/", "http")).status()).isEqualTo(503);
        assertThat(t.problems()).anySatisfy(p -> assertThat(p.message()).contains("auth-tls"));
    }

    @Test
    void aClientCertificateCheckThatCannotBeHonouredDeniesEveryLocationOfTheHost() {
        // the older Ingress protects the host, but its CA Secret is missing: the newer Ingress's
        // path on the host would otherwise be served without the check the host asks for
        Translation t = translate(List.of(
                ingress("older", "m.test", "/a", Map.of("auth-tls-secret", "missing"), "2026-01-01T00:00:00Z"),
                ingress("newer", "m.test", "/b", Map.of(), "2026-01-02T00:00:00Z")));
        assertThat(status(t, "m.test", "/a")).isEqualTo(503);
        assertThat(status(t, "m.test", "/b")).isEqualTo(503);
        assertThat(t.problems()).anySatisfy(p -> assertThat(p.message()).contains("every location of host m.test")
                .contains("503"));
        assertThat(t.table().decide("b.test", "/", "http")).isInstanceOf(RoutingDecision.Forward.class);
    }

    @Test
    void aNewerIngressAskingForADifferentClientCertificateCheckIsDeniedNotServedUnderTheOlderOne() {
        Translation t = translate(List.of(
                ingress("older", "c.test", "/a", Map.of("auth-tls-secret", "client-ca", "auth-tls-verify-client", "off"),
                        "2026-01-01T00:00:00Z"),
                ingress("newer", "c.test", "/b", Map.of("auth-tls-secret", "client-ca", "auth-tls-verify-client", "on"),
                        "2026-01-02T00:00:00Z")));
        assertThat(status(t, "c.test", "/a")).isEqualTo(0);
        assertThat(status(t, "c.test", "/b")).isEqualTo(503);
        assertThat(t.table().tls().clientAuth("c.test").mode()).isEqualTo(ClientCertificateAuth.Mode.OFF);
        assertThat(t.problems()).anySatisfy(p -> assertThat(p.name() + ": " + p.message())
                .startsWith("newer: ").contains("default/older"));
        // the same check asked twice (whichever Secret holds the CA) is no conflict
        t = translate(List.of(
                ingress("older", "c.test", "/a", Map.of("auth-tls-secret", "client-ca"), "2026-01-01T00:00:00Z"),
                ingress("newer", "c.test", "/b", Map.of("auth-tls-secret", "client-ca-copy"), "2026-01-02T00:00:00Z")));
        assertThat(status(t, "c.test", "/a")).isEqualTo(0);
        assertThat(status(t, "c.test", "/b")).isEqualTo(0);
        assertThat(t.problems()).isEmpty();
    }

    @Test
    void aCanaryAskingForAccessControlItsMainlineDoesNotHaveIsNotAttached() {
        Map<String, String> canary = Map.of("canary", "true", "canary-by-header", "X-Canary",
                "auth-type", "basic", "auth-secret", "basic-auth");
        Translation t = translate(List.of(ingress("main", "k.test", "/", Map.of(), "2026-01-01T00:00:00Z"),
                ingress("main-canary", "k.test", "/", "app-canary", canary, "2026-01-02T00:00:00Z")));
        assertThat(canaryBackends(t, "k.test")).isEmpty();
        assertThat(t.problems()).anySatisfy(p -> assertThat(p.name() + ": " + p.message()).startsWith("main-canary: ")
                .contains(P + "auth-type").contains("not attached"));
        // the same access control on both, as when the canary is a copy of the mainline: attached
        Map<String, String> auth = Map.of("auth-type", "basic", "auth-secret", "basic-auth");
        t = translate(List.of(ingress("main", "k.test", "/", auth, "2026-01-01T00:00:00Z"),
                ingress("main-canary", "k.test", "/", "app-canary", canary, "2026-01-02T00:00:00Z")));
        assertThat(canaryBackends(t, "k.test")).containsExactly("default-app-canary-80");
    }

    private static List<String> canaryBackends(Translation t, String host) {
        RoutingDecision d = t.table().decide(host, "/", "http");
        var split = ((RoutingDecision.Forward) d).route().split();
        return split.canary() == null ? List.of() : List.of(split.canary().name());
    }

    @Test
    void aServerAliasOfAHostWithClientCertificatesAsksForThemInItsHandshakeToo() {
        Translation t = translate(ingress("protected", "a.test", Map.of("auth-tls-secret", "client-ca",
                "server-alias", "alias.test")), true);
        assertThat(t.table().tls().clientAuth("alias.test")).isEqualTo(t.table().tls().clientAuth("a.test"))
                .isNotNull();
    }

    /** The status Sluice answers itself, or 0 when the request is forwarded. */
    private static int status(Translation t, String host, String path) {
        RoutingDecision d = t.table().decide(host, path, "https");
        return d instanceof RoutingDecision.Respond r ? r.status() : 0;
    }

    private void assertDenied(Map<String, String> annotations, String key) {
        Translation t = translate(ingress("protected", "a.test", annotations), true);
        RoutingDecision d = t.table().decide("a.test", "/", "http");
        assertThat(d).as(annotations + " must deny").isInstanceOfSatisfying(RoutingDecision.Respond.class,
                r -> assertThat(r.status()).as(annotations.toString()).isEqualTo(503));
        assertThat(t.problems()).as(annotations.toString()).anySatisfy(p -> {
            assertThat(p.namespace() + "/" + p.name()).isEqualTo("default/protected");
            assertThat(p.message()).contains(key).contains("503");
        });
        // the other Ingress is served
        assertThat(t.table().decide("b.test", "/", "http")).isInstanceOf(RoutingDecision.Forward.class);
    }

    private Translation translate(Ingress protectedIngress, boolean withSecrets) {
        return translate(List.of(protectedIngress), withSecrets);
    }

    private Translation translate(List<Ingress> ingresses) {
        return translate(ingresses, true);
    }

    private Translation translate(List<Ingress> ingresses, boolean withSecrets) {
        List<Ingress> all = new ArrayList<>(ingresses);
        all.add(ingress("open", "b.test", Map.of()));
        List<Secret> secrets = new ArrayList<>();
        if (withSecrets) {
            secrets.add(secret("basic-auth", Map.of("auth", "alice:{PLAIN}secret\n")));
            secrets.add(secret("digest-auth", Map.of("auth", "alice::0123456789abcdef0123456789abcdef\n")));
            secrets.add(secret("basic-map", Map.of("alice", "{PLAIN}secret")));
            secrets.add(secret("broken-auth", Map.of("auth", "alice:$unknown$hash\n")));
            secrets.add(secret("no-auth-key", Map.of("users", "alice:{PLAIN}secret\n")));
            secrets.add(secret("client-ca", Map.of("ca.crt", CA)));
            secrets.add(secret("client-ca-copy", Map.of("ca.crt", CA)));
            secrets.add(secret("bad-ca", Map.of("ca.crt", "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")));
        }
        List<io.fabric8.kubernetes.api.model.Service> services = new ArrayList<>();
        List<io.fabric8.kubernetes.api.model.Endpoints> endpoints = new ArrayList<>();
        for (String name : List.of("app", "app-canary")) {
            services.add(new ServiceBuilder().withNewMetadata().withNamespace("default").withName(name)
                    .endMetadata().withNewSpec().addNewPort().withPort(80).endPort().endSpec().build());
            endpoints.add(new EndpointsBuilder().withNewMetadata().withNamespace("default").withName(name)
                    .endMetadata().addNewSubset().addNewAddress().withIp(name.equals("app") ? "127.0.0.5" : "127.0.0.6")
                    .endAddress().addNewPort().withPort(8080).endPort().endSubset().build());
        }
        return translator.translate(new ClusterState(all, List.of(), services, List.of(), endpoints, secrets),
                Instant.now());
    }

    private static Ingress ingress(String name, String host, Map<String, String> annotations) {
        return ingress(name, host, "/", annotations, null);
    }

    private static Ingress ingress(String name, String host, String path, Map<String, String> annotations,
            String created) {
        return ingress(name, host, path, "app", annotations, created);
    }

    private static Ingress ingress(String name, String host, String path, String service,
            Map<String, String> annotations, String created) {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("kubernetes.io/ingress.class", "nginx");
        annotations.forEach((k, v) -> all.put(P + k, v));
        return new IngressBuilder().withNewMetadata().withNamespace("default").withName(name)
                .withCreationTimestamp(created).withAnnotations(all).endMetadata()
                .withNewSpec().addNewRule().withHost(host.isEmpty() ? null : host).withNewHttp()
                .addNewPath().withPath(path).withPathType("Prefix").withNewBackend().withNewService()
                .withName(service).withNewPort().withNumber(80).endPort().endService().endBackend().endPath()
                .endHttp().endRule().endSpec().build();
    }

    private static Secret secret(String name, Map<String, String> plain) {
        Map<String, String> data = new LinkedHashMap<>();
        plain.forEach((k, v) -> data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
        return new SecretBuilder().withNewMetadata().withNamespace("default").withName(name).endMetadata()
                .withType("Opaque").withData(data).build();
    }

    private static Map<String, String> orderedMap(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }
}
