package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.gateway.observe.AccessLog;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.ProxyTuning;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import io.netty.resolver.HostsFileEntriesResolver;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code proxy-http-version}, {@code proxy-request-buffering}, {@code proxy-buffer-size},
 * {@code enable-access-log} and host name endpoints (ExternalName Services) over the real
 * listener, as the backend sees them.
 */
class ProxyTuningProxyTest {
    /** A name only the proxy's hosts entries know: it resolves to the pod's loopback address. */
    private static final String EXTERNAL_NAME = "backend.external.test";

    @TempDir
    static Path dir;

    private static TestBackend pod;
    private static GatewayServer server;
    private static Path accessLog;

    @BeforeAll
    static void start() throws Exception {
        pod = TestBackend.start("pod-1", "127.0.0.2");
        ProxyTuning d = ProxyTuning.DEFAULTS;
        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(table(
                host("stream.test", prefix("/", "default/stream", backend("stream", pod))),
                host("buffered.test", prefix("/", "default/buffered", backend("buffered", pod),
                        RouteOptions.DEFAULTS.withTuning(new ProxyTuning(false, true, d.responseHeaderLimit(), true)))),
                host("small-buffered.test", prefix("/", "default/small-buffered", backend("small-buffered", pod),
                        RouteOptions.DEFAULTS.withMaxBodySize(4096)
                                .withTuning(new ProxyTuning(false, true, d.responseHeaderLimit(), true)))),
                host("http10.test", prefix("/", "default/http10", backend("http10", pod),
                        RouteOptions.DEFAULTS.withTuning(new ProxyTuning(true, false, d.responseHeaderLimit(), true)))),
                host("small-headers.test", prefix("/", "default/small-headers", backend("small-headers", pod),
                        RouteOptions.DEFAULTS.withTuning(new ProxyTuning(false, false, 2048, true)))),
                host("quiet.test", prefix("/", "default/quiet", backend("quiet", pod),
                        RouteOptions.DEFAULTS.withTuning(new ProxyTuning(false, false, d.responseHeaderLimit(), false)))),
                host("external.test", prefix("/", "default/external",
                        backend("external", Endpoint.of(EXTERNAL_NAME, pod.endpoint().port())))),
                // .invalid never resolves (RFC 6761)
                host("unresolvable.test", prefix("/", "default/unresolvable",
                        backend("unresolvable", Endpoint.of("nowhere.invalid", pod.endpoint().port()))))));
        accessLog = dir.resolve("access.log");
        InetAddress podAddress = InetAddress.getByName(pod.endpoint().address());
        HostsFileEntriesResolver hosts = (name, types) -> EXTERNAL_NAME.equals(name) ? podAddress : null;
        server = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).accessLog(AccessLog.file(accessLog)).upstreamHosts(hosts).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        pod.close();
    }

    private static String chunkedPost(String host) {
        return "POST /upload HTTP/1.1\r\nHost: " + host + "\r\nTransfer-Encoding: chunked\r\n\r\n";
    }

    @Test
    void byDefaultAChunkedBodyStreamsUpstreamChunked() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send(chunkedPost("stream.test")).sendPatternBody(100_000, true);
            RawHttpClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echoedHeader("transfer-encoding")).isEqualTo("chunked");
            assertThat(r.echoedHeader("content-length")).isNull();
        }
    }

    @Test
    void requestBufferingSendsTheWholeChunkedBodyWithItsLength() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send(chunkedPost("buffered.test")).sendPatternBody(100_000, true);
            RawHttpClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.echoedHeader("content-length")).isEqualTo("100000");
            assertThat(r.echoedHeader("transfer-encoding")).isNull();
            assertThat(r.json().path("bodyBytes").asLong()).isEqualTo(100_000);
            assertThat(r.json().path("bodyCrc32").asLong()).isEqualTo(TestBackend.patternCrc(100_000));

            // the connection serves the next request, a body with a Content-Length of its own
            c.send("POST /again HTTP/1.1\r\nHost: buffered.test\r\nContent-Length: 5000\r\n\r\n")
                    .sendPatternBody(5000, false);
            RawHttpClient.Response again = c.read();
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.echoedHeader("content-length")).isEqualTo("5000");
            assertThat(again.json().path("bodyCrc32").asLong()).isEqualTo(TestBackend.patternCrc(5000));
        }
    }

    @Test
    void aBufferedBodyOverTheBodySizeAnswers413WithoutAskingTheBackend() {
        int before = pod.requestsReceived();
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send(chunkedPost("small-buffered.test")).sendPatternBody(10_000, true);
            assertThat(c.read().status()).isEqualTo(413);
        }
        assertThat(pod.requestsReceived()).isEqualTo(before);
    }

    @Test
    void proxyHttpVersion10SendsHttp10WithConnectionClose() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("GET /v HTTP/1.1\r\nHost: http10.test\r\n\r\n");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().path("version").asText()).isEqualTo("HTTP/1.0");
            assertThat(r.echoedHeader("connection")).isEqualTo("close");

            // a chunked body cannot go over HTTP/1.0: it is read whole and sent with its length
            c.send(chunkedPost("http10.test")).sendPatternBody(20_000, true);
            RawHttpClient.Response upload = c.read();
            assertThat(upload.status()).isEqualTo(200);
            assertThat(upload.json().path("version").asText()).isEqualTo("HTTP/1.0");
            assertThat(upload.echoedHeader("content-length")).isEqualTo("20000");
            assertThat(upload.json().path("bodyCrc32").asLong()).isEqualTo(TestBackend.patternCrc(20_000));
        }
    }

    @Test
    void theDefaultSpeaksHttp11ToTheBackend() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("GET /v HTTP/1.1\r\nHost: stream.test\r\n\r\n");
            assertThat(r.json().path("version").asText()).isEqualTo("HTTP/1.1");
        }
    }

    @Test
    void responseHeadersLargerThanProxyBufferSizeAnswer502() {
        String big = "max-age=" + "1".repeat(3000);
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            assertThat(c.exchange("GET /?hsts=" + big + " HTTP/1.1\r\nHost: small-headers.test\r\n\r\n").status())
                    .isEqualTo(502);
        }
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            assertThat(c.exchange("GET /?hsts=" + big + " HTTP/1.1\r\nHost: stream.test\r\n\r\n").status())
                    .isEqualTo(200);
            assertThat(c.exchange("GET / HTTP/1.1\r\nHost: small-headers.test\r\n\r\n").status()).isEqualTo(200);
        }
    }

    @Test
    void enableAccessLogFalseWritesNoLineForTheLocation() throws Exception {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            assertThat(c.exchange("GET /quiet-path HTTP/1.1\r\nHost: quiet.test\r\n\r\n").status()).isEqualTo(200);
            assertThat(c.exchange("GET /logged-path HTTP/1.1\r\nHost: stream.test\r\n\r\n").status()).isEqualTo(200);
        }
        // lines are written in order: once the later request's line is there, the earlier one's would be
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(accessLog)
                && Files.readString(accessLog).contains("/logged-path"));
        List<String> lines = Files.readAllLines(accessLog);
        assertThat(lines).noneMatch(l -> l.contains("quiet.test") || l.contains("/quiet-path"));
    }

    @Test
    void aHostNameEndpointIsResolvedWhenConnecting() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("GET /ext HTTP/1.1\r\nHost: external.test\r\n\r\n");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("x-pod")).isEqualTo("pod-1");
            assertThat(r.echoedHeader("host")).isEqualTo("external.test"); // the request's Host, as ingress-nginx
        }
    }

    @Test
    void aHostNameThatDoesNotResolveAnswers502() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort()).timeout(60_000)) {
            assertThat(c.exchange("GET / HTTP/1.1\r\nHost: unresolvable.test\r\n\r\n").status()).isEqualTo(502);
        }
    }
}
