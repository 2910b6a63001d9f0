package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.access.AccessPolicy;
import dev.sluice.gateway.access.ExternalAuth;
import dev.sluice.gateway.access.UrlTemplate;
import dev.sluice.gateway.balance.HashKeyExpression;
import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code auth-url} end to end (SPEC §7): a real auth service decides, through a real server, what
 * the client gets and what the upstream sees.
 */
class ExternalAuthProxyTest {
    static TestBackend web;
    static TestAuthServer auth;
    static TestAuthServer tlsAuth;
    static final RouteTableHolder routes = new RouteTableHolder();
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        web = TestBackend.start("web-1", "127.0.0.2");
        auth = new TestAuthServer(false);
        tlsAuth = new TestAuthServer(true);
        Backend b = backend("default-web-80", web);
        String url = "http://127.0.0.1:" + auth.port() + "/check?x=1";
        // the oauth2-proxy example of ingress-nginx's documentation: the auth service on the app's own host
        String hostVars = "http://$host:" + auth.port() + "/oauth2/auth?uri=$escaped_request_uri&arg=$arg_a";
        routes.publish(table(host("localhost",
                prefix("/vars", "default/vars", b, external(hostVars,
                        "https://$host/oauth2/start?rd=$escaped_request_uri", null, false, null))),
                host("app.test",
                prefix("/plain", "default/plain", b, external(url, null, null, false, null)),
                prefix("/signin", "default/signin", b, external(url, "https://login.test/start", null, false, null)),
                prefix("/post", "default/post", b, external(url, null, "POST", false, null)),
                prefix("/unresolvable", "default/unresolvable", b,
                        external("http://$http_x_auth_host:" + auth.port() + "/check", null, null, false, null)),
                prefix("/cookies", "default/cookies", b, external(url, null, null, true, null)),
                prefix("/cached", "default/cached", b, external(url, null, null, false, "$http_x_token")),
                prefix("/down", "default/down", b, external("http://127.0.0.1:1/auth", null, null, false, null)),
                prefix("/tls", "default/tls", b, external("https://localhost:" + tlsAuth.port() + "/auth", null,
                        null, false, null)))));
        server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        web.close();
        auth.close();
        tlsAuth.close();
    }

    @BeforeEach
    void reset() {
        auth.received.clear();
        auth.respond = r -> "good".equals(r.headers().get("x-token"))
                ? TestAuthServer.Answer.of(200, "X-User", "alice", "Set-Cookie", "session=1")
                : "forbidden".equals(r.headers().get("x-token")) ? TestAuthServer.Answer.of(403)
                : "broken".equals(r.headers().get("x-token")) ? TestAuthServer.Answer.of(502)
                : TestAuthServer.Answer.of(401, "WWW-Authenticate", "Bearer realm=\"app\"", "Set-Cookie", "tried=1");
    }

    static RouteOptions external(String url, String signin, String method, boolean alwaysSetCookie, String cacheKey) {
        return RouteOptions.DEFAULTS.withAccess(new AccessPolicy.Guarded(null, null, null,
                new ExternalAuth(UrlTemplate.parse(url, "auth-url"), method,
                        signin == null ? null : UrlTemplate.parse(signin, "auth-signin"), "rd", List.of("X-User"), null,
                        Map.of(),
                        cacheKey == null ? null : HashKeyExpression.compile(cacheKey),
                        Map.of(200, Duration.ofMinutes(5)), alwaysSetCookie, 0, 1000, Duration.ofSeconds(60)),
                false));
    }

    private static RawHttpClient.Response get(String path, String... headers) {
        StringBuilder raw = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: app.test\r\n");
        for (String h : headers) {
            raw.append(h).append("\r\n");
        }
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            return c.exchange(raw.append("\r\n").toString());
        }
    }

    @Test
    void aTwoHundredFromTheAuthServiceLetsTheRequestThroughWithItsResponseHeaders() {
        RawHttpClient.Response r = get("/plain/a?b=c", "X-Token: good", "X-User: mallory",
                "Authorization: Bearer kept");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.echoedHeader("x-user")).isEqualTo("alice");
        assertThat(r.echoedHeader("authorization")).as("external auth leaves Authorization to the app")
                .isEqualTo("Bearer kept");
        // the Set-Cookie of the auth service goes with a 200
        assertThat(r.headers("set-cookie")).contains("session=1");

        assertThat(auth.received).singleElement().satisfies(s -> {
            assertThat(s.method()).isEqualTo("GET");
            assertThat(s.uri()).isEqualTo("/check?x=1");
            assertThat(s.bodyBytes()).isZero();
            assertThat(s.headers().get("x-original-url")).isEqualTo("http://app.test/plain/a?b=c");
            assertThat(s.headers().get("x-original-method")).isEqualTo("GET");
            assertThat(s.headers().get("x-sent-from")).isEqualTo("nginx-ingress-controller");
            assertThat(s.headers().get("x-real-ip")).isEqualTo("127.0.0.1");
            assertThat(s.headers().get("x-forwarded-for")).isEqualTo("127.0.0.1");
            assertThat(s.headers().get("x-auth-request-redirect")).isEqualTo("/plain/a?b=c");
            assertThat(s.headers().get("x-token")).isEqualTo("good");
            assertThat(s.headers().get("host")).isEqualTo("127.0.0.1");
        });
    }

    @Test
    void aClientCannotClaimAnIdentityTheAuthServiceDidNotGive() {
        auth.respond = r -> TestAuthServer.Answer.of(200);
        RawHttpClient.Response r = get("/plain", "X-User: mallory");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.echoedHeader("x-user")).isNull();
    }

    @Test
    void fourOhOneAndFourOhThreeArePassedOnAndAnythingElseIsFiveHundred() {
        int before = web.requestsReceived();
        RawHttpClient.Response unauthorized = get("/plain");
        assertThat(unauthorized.status()).isEqualTo(401);
        assertThat(unauthorized.header("www-authenticate")).isEqualTo("Bearer realm=\"app\"");
        assertThat(unauthorized.headers("set-cookie")).doesNotContain("tried=1");
        assertThat(get("/plain", "X-Token: forbidden").status()).isEqualTo(403);
        assertThat(get("/plain", "X-Token: broken").status()).isEqualTo(500);
        assertThat(get("/down", "X-Token: good").status()).isEqualTo(500);
        assertThat(web.requestsReceived()).as("nothing refused reaches the upstream").isEqualTo(before);
    }

    @Test
    void withAuthSigninA401RedirectsToTheSigninPageWithTheEscapedOriginalUrl() {
        RawHttpClient.Response r = get("/signin?a=b&c=d");
        assertThat(r.status()).isEqualTo(302);
        assertThat(r.header("location"))
                .isEqualTo("https://login.test/start?rd=http://app.test%2Fsignin%3Fa%3Db%26c%3Dd");
    }

    @Test
    void nginxVariablesInAuthUrlAndAuthSigninAreExpandedPerRequest() {
        RawHttpClient.Response r;
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            r = c.exchange("GET /vars/x?a=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        }
        assertThat(auth.received).singleElement().satisfies(s -> {
            assertThat(s.uri()).isEqualTo("/oauth2/auth?uri=%2Fvars%2Fx%3Fa%3D1&arg=1");
            assertThat(s.headers().get("host")).isEqualTo("localhost");
        });
        // the sign-in URL already names rd: nothing is appended, its variables are expanded
        assertThat(r.status()).isEqualTo(302);
        assertThat(r.header("location")).isEqualTo("https://localhost/oauth2/start?rd=%2Fvars%2Fx%3Fa%3D1");
    }

    @Test
    void anAuthUrlThatDoesNotExpandToAUrlIsAFiveHundredAndNothingIsSent() {
        // no X-Auth-Host header: the URL has no host, as NGINX's auth_request failing
        assertThat(get("/unresolvable", "X-Token: good").status()).isEqualTo(500);
        assertThat(auth.received).isEmpty();
        assertThat(get("/unresolvable", "X-Token: good", "X-Auth-Host: 127.0.0.1").status()).isEqualTo(200);
    }

    @Test
    void authMethodIsUsedForTheSubrequest() {
        assertThat(get("/post", "X-Token: good").status()).isEqualTo(200);
        assertThat(auth.received).singleElement().satisfies(s -> {
            assertThat(s.method()).isEqualTo("POST");
            assertThat(s.bodyBytes()).isZero();
        });
    }

    @Test
    void authAlwaysSetCookieSendsTheAuthCookieWithAnyStatus() {
        RawHttpClient.Response r = get("/cookies");
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.headers("set-cookie")).contains("tried=1");
        // and with an upstream error status after a successful check
        RawHttpClient.Response failed = get("/cookies?status=503", "X-Token: good");
        assertThat(failed.status()).isEqualTo(503);
        assertThat(failed.headers("set-cookie")).contains("session=1");
        RawHttpClient.Response plainFailed = get("/plain?status=503", "X-Token: good");
        assertThat(plainFailed.headers("set-cookie")).doesNotContain("session=1");
    }

    @Test
    void cachedAnswersAreReusedPerKey() {
        // an answer with Set-Cookie is never cached (NGINX's proxy_cache), so this one has none
        auth.respond = r -> "good".equals(r.headers().get("x-token"))
                ? TestAuthServer.Answer.of(200, "X-User", "alice") : TestAuthServer.Answer.of(401);
        assertThat(get("/cached", "X-Token: good").status()).isEqualTo(200);
        RawHttpClient.Response again = get("/cached", "X-Token: good");
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.echoedHeader("x-user")).as("the cached answer's headers apply too").isEqualTo("alice");
        assertThat(auth.received).hasSize(1);
        // another key asks again, and its 401 (not in the validity map) is not cached
        assertThat(get("/cached", "X-Token: nope").status()).isEqualTo(401);
        assertThat(get("/cached", "X-Token: nope").status()).isEqualTo(401);
        assertThat(auth.received).hasSize(3);
    }

    @Test
    void anHttpsAuthServiceWorks() {
        tlsAuth.respond = r -> TestAuthServer.Answer.of(200, "X-User", "tls-user");
        RawHttpClient.Response r = get("/tls");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.echoedHeader("x-user")).isEqualTo("tls-user");
        tlsAuth.respond = r2 -> TestAuthServer.Answer.of(401);
        assertThat(get("/tls").status()).isEqualTo(401);
    }
}
