package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.testing.ScriptedBackend;
import dev.sluice.gateway.proxy.RawHttpClient;
import dev.sluice.gateway.proxy.TestBackend;
import dev.sluice.gateway.request.Endpoint;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Error pages ({@code custom-http-errors}, {@code default-backend}) and the header annotations
 * ({@code upstream-vhost}, {@code server-alias}, {@code custom-headers}, {@code proxy-redirect-*},
 * {@code proxy-cookie-*}) through the real proxy in manifest mode, with a real default backend and
 * a real application backend on loopback; the default backend answers with the status it is told
 * in {@code X-Code}, as ingress-nginx's custom-error-pages image does.
 */
class SluiceAppResponseAnnotationsTest {

    @TempDir
    Path dir;

    private ScriptedBackend app;
    private ScriptedBackend errors;
    private SluiceApp sluice;

    @BeforeEach
    void backends() {
        app = ScriptedBackend.start(r -> switch (r.uri().replaceAll("\\?.*", "")) {
            case "/missing" -> text(404, "app says 404");
            case "/broken" -> text(503, "app says 503");
            case "/teapot" -> text(418, "app says 418");
            case "/redirect" -> {
                FullHttpResponse resp = text(302, "");
                resp.headers().set("Location", "http://internal.app.local/login?next=/cart");
                resp.headers().set("Refresh", "5; url=http://internal.app.local/later");
                resp.headers().add("Set-Cookie", "sid=1; Domain=.Internal.App.Local; Path=/internal/cart; HttpOnly");
                resp.headers().add("Set-Cookie", "other=2; Domain=elsewhere.test; Path=/keep");
                yield resp;
            }
            default -> {
                FullHttpResponse resp = text(200, "app " + r.uri());
                resp.headers().set("X-Seen-Host", String.valueOf(r.header("host")));
                yield resp;
            }
        });
        errors = ScriptedBackend.start(r -> {
            String code = r.header("x-code");
            return text(code == null ? 200 : Integer.parseInt(code), "error page " + code + " for "
                    + r.header("x-original-uri"));
        });
    }

    @AfterEach
    void stop() {
        if (sluice != null) {
            sluice.close();
        }
        app.close();
        errors.close();
    }

    @Test
    void listedUpstreamErrorsAreServedByTheDefaultBackendWithIngressNginxHeaders() throws Exception {
        start(ingress("pages", "pages.example.com", "app", """
                    nginx.ingress.kubernetes.io/custom-http-errors: "404, 503"
                    nginx.ingress.kubernetes.io/default-backend: errors
                """));

        RawHttpClient.Response r = send("GET /missing?q=1 HTTP/1.1\r\nHost: pages.example.com\r\n"
                + "Accept: application/json\r\nX-Request-ID: req-42\r\n\r\n");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.text()).isEqualTo("error page 404 for /missing?q=1");
        ScriptedBackend.Received got = errors.last();
        assertThat(got.method()).isEqualTo("GET");
        assertThat(got.uri()).isEqualTo("/");
        assertThat(got.header("x-code")).isEqualTo("404");
        assertThat(got.header("x-format")).isEqualTo("application/json");
        assertThat(got.header("x-original-uri")).isEqualTo("/missing?q=1");
        assertThat(got.header("x-namespace")).isEqualTo("shop");
        assertThat(got.header("x-ingress-name")).isEqualTo("pages");
        assertThat(got.header("x-service-name")).isEqualTo("app");
        assertThat(got.header("x-service-port")).isEqualTo("80");
        assertThat(got.header("x-request-id")).isEqualTo("req-42");
        assertThat(got.header("host")).isEqualTo("pages.example.com");

        RawHttpClient.Response broken = send("GET /broken HTTP/1.1\r\nHost: pages.example.com\r\n\r\n");
        assertThat(broken.status()).isEqualTo(503);
        assertThat(broken.text()).isEqualTo("error page 503 for /broken");
        assertThat(errors.last().header("x-format")).isNull();

        // statuses not listed, and successes, are the application's own
        RawHttpClient.Response teapot = send("GET /teapot HTTP/1.1\r\nHost: pages.example.com\r\n\r\n");
        assertThat(teapot.status()).isEqualTo(418);
        assertThat(teapot.text()).isEqualTo("app says 418");
        assertThat(send("GET /ok HTTP/1.1\r\nHost: pages.example.com\r\n\r\n").text()).isEqualTo("app /ok");
        assertThat(errors.received()).hasSize(2);

        // the operator sees the location's error pages in /routes
        com.fasterxml.jackson.databind.JsonNode routes = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                new java.net.URL("http://127.0.0.1:" + sluice.adminPort() + "/routes"));
        com.fasterxml.jackson.databind.JsonNode pages = routes.at("/hosts/pages.example.com/routes/0/errorPages");
        assertThat(pages.get("codes").toString()).isEqualTo("[404,503]");
        assertThat(pages.get("defaultBackend").asText()).isEqualTo("shop-errors-80");
        assertThat(pages.get("replacesService").asBoolean()).isFalse();
    }

    @Test
    void errorsSluiceAnswersItselfAreReplacedToo() throws Exception {
        // nothing listens at the Service's endpoint: the proxy itself answers 502, which is listed
        Endpoint dead = TestBackend.deadEndpoint("127.0.0.1");
        start(ingress("dead-pages", "dead.example.com", "dead", """
                    nginx.ingress.kubernetes.io/custom-http-errors: "502"
                    nginx.ingress.kubernetes.io/default-backend: errors
                """) + service("dead") + endpoints("dead", dead.port()));
        try (RawHttpClient c = RawHttpClient.connect(sluice.httpPort())) {
            RawHttpClient.Response r = c.exchange("POST /order HTTP/1.1\r\nHost: dead.example.com\r\n"
                    + "Content-Length: 5\r\n\r\nhello");
            assertThat(r.status()).isEqualTo(502);
            assertThat(r.text()).isEqualTo("error page 502 for /order");
            ScriptedBackend.Received got = errors.last();
            assertThat(got.method()).isEqualTo("POST");
            assertThat(got.body()).isEmpty(); // the error page request has no body
            assertThat(got.header("x-service-name")).isEqualTo("dead");
            // the client connection stays usable
            assertThat(c.exchange("GET /again HTTP/1.1\r\nHost: dead.example.com\r\n\r\n").text())
                    .isEqualTo("error page 502 for /again");
        }
    }

    @Test
    void aDefaultBackendAloneServesALocationWhoseServiceHasNoEndpoints() throws Exception {
        start(ingress("fallback", "fallback.example.com", "nobody", """
                    nginx.ingress.kubernetes.io/default-backend: errors
                """) + service("nobody"));
        RawHttpClient.Response r = send("GET /alma/armud HTTP/1.1\r\nHost: fallback.example.com\r\n"
                + "X-Request-ID: something-unique\r\n\r\n");
        assertThat(r.status()).isEqualTo(503);
        ScriptedBackend.Received got = errors.last();
        assertThat(got.uri()).isEqualTo("/alma/armud"); // path unchanged, as ingress-nginx
        assertThat(got.header("x-code")).isEqualTo("503");
        assertThat(got.header("x-ingress-name")).isEqualTo("fallback");
        assertThat(got.header("x-service-name")).isEqualTo("nobody");
        assertThat(got.header("x-request-id")).isEqualTo("something-unique");
    }

    @Test
    void aHostsUnmatchedPathsTakeTheErrorPagesOfTheIngressThatCreatedIt() throws Exception {
        start(ingress("shop-only", "unmatched.example.com", "app", """
                    nginx.ingress.kubernetes.io/custom-http-errors: "404"
                    nginx.ingress.kubernetes.io/default-backend: errors
                """).replace("path: /\n", "path: /shop\n"));
        assertThat(send("GET /shop/x HTTP/1.1\r\nHost: unmatched.example.com\r\n\r\n").text())
                .isEqualTo("app /shop/x");
        RawHttpClient.Response r = send("GET /elsewhere HTTP/1.1\r\nHost: unmatched.example.com\r\n\r\n");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.text()).isEqualTo("error page 404 for /elsewhere");
        assertThat(errors.last().header("x-ingress-name")).isEqualTo("shop-only");
    }

    @Test
    void withoutAnyDefaultBackendListedErrorsAnswerTheBuiltIn404() throws Exception {
        start(ingress("no-backend", "nb.example.com", "app", """
                    nginx.ingress.kubernetes.io/custom-http-errors: "503"
                """));
        RawHttpClient.Response r = send("GET /broken HTTP/1.1\r\nHost: nb.example.com\r\n\r\n");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.text()).contains("404 Not Found");
        assertThat(errors.received()).isEmpty();
    }

    @Test
    void upstreamVhostServerAliasCustomHeadersAndResponseRewrites() throws Exception {
        start(ingress("site", "site.example.com", "app", """
                    nginx.ingress.kubernetes.io/upstream-vhost: internal.app.local
                    nginx.ingress.kubernetes.io/server-alias: "alias.example.com, other.example.com"
                    nginx.ingress.kubernetes.io/custom-headers: site-headers
                    nginx.ingress.kubernetes.io/proxy-redirect-from: http://internal.app.local/
                    nginx.ingress.kubernetes.io/proxy-redirect-to: https://site.example.com/
                    nginx.ingress.kubernetes.io/proxy-cookie-domain: internal.app.local site.example.com
                    nginx.ingress.kubernetes.io/proxy-cookie-path: /internal/ /
                """)
                // a real host of the alias's name keeps its own routes
                + ingress("other", "other.example.com", "errors", "")
                + """
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: site-headers, namespace: shop}
                data:
                  X-Frame-Options: DENY
                  X-Served-By: "sluice $not_expanded"
                """);

        RawHttpClient.Response r = send("GET /hello HTTP/1.1\r\nHost: site.example.com\r\n\r\n");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("x-seen-host")).isEqualTo("internal.app.local");
        assertThat(app.last().header("x-forwarded-host")).isEqualTo("site.example.com");
        assertThat(r.header("x-frame-options")).isEqualTo("DENY");
        assertThat(r.header("x-served-by")).isEqualTo("sluice $not_expanded");

        RawHttpClient.Response alias = send("GET /via-alias HTTP/1.1\r\nHost: alias.example.com\r\n\r\n");
        assertThat(alias.status()).isEqualTo(200);
        assertThat(alias.text()).isEqualTo("app /via-alias");
        assertThat(alias.header("x-frame-options")).isEqualTo("DENY");
        RawHttpClient.Response real = send("GET /x HTTP/1.1\r\nHost: other.example.com\r\n\r\n");
        assertThat(real.text()).startsWith("error page"); // the "other" Ingress's own backend

        RawHttpClient.Response redirect = send("GET /redirect HTTP/1.1\r\nHost: site.example.com\r\n\r\n");
        assertThat(redirect.status()).isEqualTo(302);
        assertThat(redirect.header("location")).isEqualTo("https://site.example.com/login?next=/cart");
        assertThat(redirect.header("refresh")).isEqualTo("5; url=https://site.example.com/later");
        assertThat(redirect.headers("set-cookie")).containsExactly(
                "sid=1; Domain=site.example.com; Path=/cart; HttpOnly",
                "other=2; Domain=elsewhere.test; Path=/keep");
        assertThat(redirect.header("x-frame-options")).isEqualTo("DENY"); // 302 is one of more_set_headers' statuses
    }

    @Test
    void aMissingCustomHeadersConfigMapDeniesTheLocationsUntilItExists() throws Exception {
        start(ingress("guarded", "guarded.example.com", "app", """
                    nginx.ingress.kubernetes.io/custom-headers: security-headers
                """));
        assertThat(send("GET / HTTP/1.1\r\nHost: guarded.example.com\r\n\r\n").status()).isEqualTo(503);
        Files.writeString(dir.resolve("60-cm.yaml"), """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: security-headers, namespace: shop}
                data: {Content-Security-Policy: "default-src 'self'"}
                """);
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> send("GET / HTTP/1.1\r\nHost: guarded.example.com\r\n\r\n").status() == 200);
        assertThat(send("GET / HTTP/1.1\r\nHost: guarded.example.com\r\n\r\n").header("content-security-policy"))
                .isEqualTo("default-src 'self'");
    }

    // ------------------------------------------------------------------ fixtures

    private void start(String ingresses) throws IOException {
        Files.writeString(dir.resolve("00-base.yaml"), """
                apiVersion: networking.k8s.io/v1
                kind: IngressClass
                metadata: {name: nginx}
                spec: {controller: k8s.io/ingress-nginx}
                """ + service("app") + endpoints("app", app.port()) + service("errors")
                + endpoints("errors", errors.port()));
        Files.writeString(dir.resolve("50-ingresses.yaml"), ingresses);
        sluice = new SluiceApp(Main.parse(new String[] {"--http-port=0", "--https-port=0", "--healthz-port=0",
            "--bind-address=127.0.0.1", "--event-loops=1", "--access-log=off", "--manifests", dir.toString()}));
        sluice.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> sluice.routes().isPublished());
    }

    static String ingress(String name, String host, String service, String annotations) {
        return "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name
                + "\n  namespace: shop\n" + (annotations.isBlank() ? "" : "  annotations:\n" + annotations)
                + "spec:\n  ingressClassName: nginx\n  rules:\n    - host: " + host + "\n      http:\n        paths:\n"
                + "          - path: /\n            pathType: Prefix\n            backend:\n              service:\n"
                + "                name: " + service + "\n                port: {number: 80}\n";
    }

    static String service(String name) {
        return "---\napiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: shop}\n"
                + "spec:\n  ports:\n    - {port: 80, targetPort: 8080}\n";
    }

    static String endpoints(String name, int port) {
        return "---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: " + name + ", namespace: shop}\n"
                + "subsets:\n  - addresses: [{ip: 127.0.0.1}]\n    ports: [{port: " + port + "}]\n";
    }

    private static FullHttpResponse text(int status, String body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        r.headers().set("Content-Type", "text/plain");
        return r;
    }

    private RawHttpClient.Response send(String raw) {
        try (RawHttpClient c = RawHttpClient.connect(sluice.httpPort())) {
            return c.exchange(raw);
        }
    }
}
