package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.gateway.proxy.RawHttpClient;
import dev.sluice.gateway.proxy.TestBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The global ConfigMap ({@code --configmap}) through the real proxy to a real loopback backend
 * that echoes what it received: one test per key group, with ConfigMap changes applied without a
 * restart. Run once per source of objects: manifest files ({@link SluiceAppConfigMapTest}) and
 * the mock API server in cluster mode ({@link SluiceAppConfigMapClusterModeTest}).
 */
abstract class ConfigMapKeyGroups {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String GLOBAL = "ingress-nginx-controller";

    /** An Ingress {@code host}/ → Service {@code web}, with annotations under the default prefix. */
    record IngressFixture(String name, String host, Map<String, String> annotations) {}

    TestBackend web;
    private TestBackend auth;

    /**
     * Starts Sluice with {@code --configmap=ingress-nginx/ingress-nginx-controller} on a Service
     * {@code default/web} whose one endpoint is {@link #web}, these Ingresses, and these
     * ConfigMaps of namespace {@code ingress-nginx} (by name); returns once a table is published.
     */
    abstract void startSluice(Map<String, Map<String, String>> configMaps, List<IngressFixture> ingresses)
            throws Exception;

    /** Creates or replaces ConfigMap {@code ingress-nginx/name}. */
    abstract void putConfigMap(String name, Map<String, String> data) throws Exception;

    /** Deletes ConfigMap {@code ingress-nginx/name}. */
    abstract void deleteConfigMap(String name) throws Exception;

    abstract SluiceApp app();

    abstract void stopSluice();

    @AfterEach
    void stopAll() {
        stopSluice();
        if (web != null) {
            web.close();
        }
        if (auth != null) {
            auth.close();
        }
    }

    private void start(Map<String, String> global, List<IngressFixture> ingresses) throws Exception {
        start(global, Map.of(), ingresses);
    }

    private void start(Map<String, String> global, Map<String, Map<String, String>> others,
            List<IngressFixture> ingresses) throws Exception {
        web = TestBackend.start("web-1", "127.0.0.1");
        Map<String, Map<String, String>> configMaps = new LinkedHashMap<>(others);
        if (global != null) {
            configMaps.put(GLOBAL, global);
        }
        startSluice(configMaps, ingresses);
        await().atMost(Duration.ofSeconds(10)).until(() -> app().routes().isPublished());
    }

    private void writeConfigMap(Map<String, String> data) throws Exception {
        putConfigMap(GLOBAL, data);
    }

    private static IngressFixture ingress(String name, String host, Map<String, String> annotations) {
        return new IngressFixture(name, host, annotations);
    }

    private RawHttpClient.Response send(String request) {
        try (RawHttpClient c = RawHttpClient.connect(app().httpPort())) {
            return c.exchange(request);
        }
    }

    private static JsonNode echo(RawHttpClient.Response r) {
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        try {
            return JSON.readTree(r.text());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String header(JsonNode echo, String name) {
        JsonNode values = echo.path("headers").path(name);
        return values.isMissingNode() ? null : values.get(0).asText();
    }

    private static final String FORWARDED_REQUEST = "GET / HTTP/1.1\r\nHost: app.example.com\r\n"
            + "X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Port: 1234\r\n"
            + "X-Forwarded-Host: myhost\r\n\r\n";

    @Test
    void useForwardedHeadersChangesLiveWithoutARestart() throws Exception {
        start(Map.of(), List.of(ingress("app", "app.example.com", Map.of())));
        JsonNode before = echo(send(FORWARDED_REQUEST));
        assertThat(header(before, "host")).isEqualTo("app.example.com");
        assertThat(header(before, "x-forwarded-for")).isEqualTo("127.0.0.1");
        assertThat(header(before, "x-forwarded-proto")).isEqualTo("http");
        assertThat(header(before, "x-original-forwarded-for")).isEqualTo("1.2.3.4");

        writeConfigMap(Map.of("use-forwarded-headers", "true", "force-ssl-redirect", "true"));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> "1.2.3.4".equals(header(echo(send(FORWARDED_REQUEST)), "x-forwarded-for")));
        JsonNode after = echo(send(FORWARDED_REQUEST));
        assertThat(header(after, "host")).isEqualTo("myhost");
        assertThat(header(after, "x-forwarded-host")).isEqualTo("myhost");
        assertThat(header(after, "x-forwarded-proto")).isEqualTo("https");
        assertThat(header(after, "x-forwarded-port")).isEqualTo("1234");
        assertThat(header(after, "x-real-ip")).isEqualTo("1.2.3.4");
        // the load balancer terminated TLS: no redirect loop; a plain request is redirected
        RawHttpClient.Response plain = send("GET /x HTTP/1.1\r\nHost: app.example.com\r\n\r\n");
        assertThat(plain.status()).isEqualTo(308);
        assertThat(plain.header("location")).isEqualTo("https://app.example.com/x");

        writeConfigMap(Map.of("enable-real-ip", "true"));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> "app.example.com".equals(header(echo(send(FORWARDED_REQUEST)), "host")));
        JsonNode realIpOnly = echo(send(FORWARDED_REQUEST));
        assertThat(header(realIpOnly, "x-forwarded-for")).isEqualTo("1.2.3.4");
        assertThat(header(realIpOnly, "x-forwarded-proto")).isEqualTo("http");

        deleteConfigMap(GLOBAL);
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> "127.0.0.1".equals(header(echo(send(FORWARDED_REQUEST)), "x-forwarded-for")));
    }

    @Test
    void compressionAndErrorPageKeysApplyLive() throws Exception {
        start(Map.of(), List.of(ingress("app", "app.example.com", Map.of())));
        String gzipRequest = "GET / HTTP/1.1\r\nHost: app.example.com\r\nAccept-Encoding: gzip\r\n\r\n";
        assertThat(send(gzipRequest).header("content-encoding")).isNull();

        writeConfigMap(Map.of("use-gzip", "true", "gzip-min-length", "1", "custom-http-errors", "503"));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> "gzip".equals(send(gzipRequest).header("content-encoding")));
        RawHttpClient.Response gzipped = send(gzipRequest);
        byte[] plain;
        try (java.util.zip.GZIPInputStream in = new java.util.zip.GZIPInputStream(
                new java.io.ByteArrayInputStream(gzipped.body()))) {
            plain = in.readAllBytes();
        }
        assertThat(JSON.readTree(plain).path("pod").asText()).isEqualTo("web-1");
        // custom-http-errors from the ConfigMap: the upstream's 503 is replaced by the default
        // backend's answer — here none is configured, so the built-in 404, as ingress-nginx's
        assertThat(send("GET /?status=503 HTTP/1.1\r\nHost: app.example.com\r\n\r\n").status()).isEqualTo(404);
        assertThat(send("GET /?status=500 HTTP/1.1\r\nHost: app.example.com\r\n\r\n").status()).isEqualTo(500);
    }

    @Test
    void headerKeysAddSetAndHideHeaders() throws Exception {
        start(Map.of("add-headers", "ingress-nginx/response-headers", "proxy-set-headers", "upstream-headers",
                "hide-headers", "X-Pod"), Map.of("response-headers", Map.of("X-Frame-Options", "DENY"),
                "upstream-headers", Map.of("X-Team", "blue")), List.of(ingress("app", "app.example.com", Map.of())));
        RawHttpClient.Response r = send("GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n");
        assertThat(header(echo(r), "x-team")).isEqualTo("blue");
        assertThat(r.header("x-frame-options")).isEqualTo("DENY");
        assertThat(r.header("x-pod")).isNull();
        // local answers carry add-headers too
        RawHttpClient.Response notFound = send("GET / HTTP/1.1\r\nHost: unknown.example.com\r\n\r\n");
        assertThat(notFound.status()).isEqualTo(404);
        assertThat(notFound.header("x-frame-options")).isEqualTo("DENY");

        // editing the named ConfigMap applies too
        putConfigMap("response-headers", Map.of("X-Frame-Options", "SAMEORIGIN"));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> "SAMEORIGIN".equals(
                send("GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n").header("x-frame-options")));
    }

    @Test
    void locationDefaultsRedirectsAndHstsComeFromTheConfigMap() throws Exception {
        start(Map.of("proxy-body-size", "1k", "http-redirect-code", "301", "hsts-max-age", "600",
                "hsts-preload", "true"),
                List.of(ingress("app", "app.example.com", Map.of()),
                        ingress("big", "big.example.com", Map.of("proxy-body-size", "4k")),
                        ingress("secure", "secure.example.com", Map.of("force-ssl-redirect", "true"))));
        String body = "x".repeat(2000);
        String post = "POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: 2000\r\n\r\n" + body;
        assertThat(send(post.formatted("app.example.com")).status()).isEqualTo(413);
        assertThat(send(post.formatted("big.example.com")).status()).isEqualTo(200);

        RawHttpClient.Response redirect = send("GET /a HTTP/1.1\r\nHost: secure.example.com\r\n\r\n");
        assertThat(redirect.status()).isEqualTo(301);
        assertThat(redirect.header("location")).isEqualTo("https://secure.example.com/a");

        try (RawHttpClient c = RawHttpClient.connectTls(app().httpsPort(), "app.example.com")) {
            RawHttpClient.Response r = c.exchange("GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("strict-transport-security")).isEqualTo("max-age=600; includeSubDomains; preload");
        }
        writeConfigMap(Map.of("hsts", "false"));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> {
            try (RawHttpClient c = RawHttpClient.connectTls(app().httpsPort(), "app.example.com")) {
                return c.exchange("GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n")
                        .header("strict-transport-security") == null;
            }
        });
        // the ConfigMap's 1k is gone with it: back to ingress-nginx's 1m
        assertThat(send(post.formatted("app.example.com")).status()).isEqualTo(200);
    }

    @Test
    void blockListsAnswer403() throws Exception {
        start(Map.of("block-user-agents", "~*badbot, exact-agent", "block-referers", "~spam\\.example"),
                List.of(ingress("app", "app.example.com", Map.of())));
        String get = "GET / HTTP/1.1\r\nHost: app.example.com\r\n%s\r\n";
        assertThat(send(get.formatted("User-Agent: Mozilla/5.0\r\n")).status()).isEqualTo(200);
        assertThat(send(get.formatted("User-Agent: Some-BadBot/1.0\r\n")).status()).isEqualTo(403);
        assertThat(send(get.formatted("User-Agent: Exact-Agent\r\n")).status()).isEqualTo(403);
        assertThat(send(get.formatted("Referer: https://spam.example/\r\n")).status()).isEqualTo(403);

        writeConfigMap(Map.of("block-cidrs", "127.0.0.0/8"));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> send(get.formatted("")).status() == 403);
        assertThat(send(get.formatted("User-Agent: Some-BadBot/1.0\r\n")).status()).isEqualTo(403);

        // an entry that cannot be read blocks everyone (503) rather than no one
        writeConfigMap(Map.of("block-cidrs", "10.0.0.0/8, 127.0.0.1/33"));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> send(get.formatted("")).status() == 503);
    }

    @Test
    void globalAuthProtectsLocationsAndABadValueDenies() throws Exception {
        auth = TestBackend.start("auth-1", "127.0.0.1");
        String authUrl = "http://127.0.0.1:" + auth.endpoint().port() + "/check";
        start(Map.of("global-auth-url", authUrl + "?status=401"),
                List.of(ingress("app", "app.example.com", Map.of()),
                        ingress("public", "public.example.com", Map.of("enable-global-auth", "false"))));
        String get = "GET / HTTP/1.1\r\nHost: %s\r\n\r\n";
        assertThat(send(get.formatted("app.example.com")).status()).isEqualTo(401);
        assertThat(send(get.formatted("public.example.com")).status()).isEqualTo(200);

        writeConfigMap(Map.of("global-auth-url", authUrl + "?status=200"));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> send(get.formatted("app.example.com")).status() == 200);

        // fail closed: a value that cannot be honoured denies, it never opens the location
        writeConfigMap(Map.of("global-auth-url", "not a url"));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> send(get.formatted("app.example.com")).status() == 503);
        assertThat(send(get.formatted("public.example.com")).status()).isEqualTo(200);
    }

    @Test
    void listenerKeysApplyToNewConnectionsWithoutARestart() throws Exception {
        start(Map.of(), List.of(ingress("app", "app.example.com", Map.of())));
        String get = "GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n";
        assertThat(header(echo(send(get)), "x-forwarded-for")).isEqualTo("127.0.0.1");

        // 40 KiB of headers: above the default 4 8k (431), within 8 8k
        String bigHeaders = ("X-Big: " + "b".repeat(8000) + "\r\n").repeat(5);
        String big = "GET / HTTP/1.1\r\nHost: app.example.com\r\n" + bigHeaders + "\r\n";
        assertThat(send(big).status()).isEqualTo(431);
        writeConfigMap(Map.of("large-client-header-buffers", "8 8k"));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> send(big).status() == 200);

        writeConfigMap(Map.of("use-proxy-protocol", "true", "keep-alive", "1"));
        String proxied = "PROXY TCP4 5.6.7.8 127.0.0.1 1111 80\r\n" + get;
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                .until(() -> "5.6.7.8".equals(header(echo(send(proxied)), "x-forwarded-for")));
        // keep-alive 1 s: an idle connection is closed by the server soon (75 s otherwise)
        try (RawHttpClient c = RawHttpClient.connect(app().httpPort())) {
            assertThat(c.exchange(proxied).status()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(c::closedByServer);
        }

        // keep-alive-requests 2: the second response on a connection closes it
        writeConfigMap(Map.of("keep-alive-requests", "2"));
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                .until(() -> "127.0.0.1".equals(header(echo(send(get)), "x-forwarded-for")));
        try (RawHttpClient c = RawHttpClient.connect(app().httpPort())) {
            RawHttpClient.Response first = c.exchange(get);
            assertThat(first.header("connection")).isNull();
            RawHttpClient.Response second = c.exchange(get);
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.header("connection")).isEqualTo("close");
            await().atMost(Duration.ofSeconds(5)).until(c::closedByServer);
        }

        // client-header-timeout 1 s: a head that keeps trickling in is cut all the same (slowloris);
        // the default is 60 s, so a cut within seconds is the ConfigMap's value at work
        writeConfigMap(Map.of("client-header-timeout", "1"));
        await().atMost(Duration.ofSeconds(20)).until(this::aTricklingHeadIsCutWithinThreeSeconds);
    }

    private boolean aTricklingHeadIsCutWithinThreeSeconds() {
        try (RawHttpClient c = RawHttpClient.connect(app().httpPort())) {
            c.timeout(300).send("GET / HTTP/1.1\r\nHost: app.example.com\r\n");
            for (int i = 0; i < 10; i++) {
                if (c.closedByServer()) {
                    return true;
                }
                c.send("X-Trickle: " + i + "\r\n");
            }
            return false;
        } catch (UncheckedIOException e) {
            return true; // the write found the connection closed
        }
    }

    @Test
    void limitStatusCodesComeFromTheConfigMap() throws Exception {
        start(Map.of("limit-req-status-code", "429"),
                List.of(ingress("limited", "app.example.com", Map.of("limit-rps", "1", "limit-burst-multiplier", "1"))));
        String get = "GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n";
        int limited = 0;
        for (int i = 0; i < 10; i++) {
            int status = send(get).status();
            assertThat(status).isIn(200, 429);
            if (status == 429) {
                limited++;
            }
        }
        assertThat(limited).isPositive();
    }
}
