package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.tableWithCatchAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 to clients on the TLS listener (ALPN {@code h2}): every stream is proxied like an
 * HTTP/1.1 request, many at once on one connection, bodies streamed both ways; HTTP/1.1 clients
 * on the same listener are unaffected.
 */
class Http2ClientProxyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestBackend pod;
    private static TestBackend named;
    private static GatewayServer server;
    private static HttpClient h2;

    @BeforeAll
    static void start() throws InterruptedException {
        pod = TestBackend.start("pod-1", "127.0.0.2");
        named = TestBackend.start("named-1", "127.0.0.3");
        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(tableWithCatchAll(host("", prefix("/", "default/any", backend("any", pod),
                        RouteOptions.DEFAULTS.withMaxBodySize(0))),
                host("h2.test", prefix("/", "default/named", backend("named", named)))));
        server = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(0)
                .eventLoops(1).build();
        server.start();
        h2 = Http2Clients.trustingAll(HttpClient.Version.HTTP_2);
    }

    @AfterAll
    static void stop() {
        server.close();
        pod.close();
        named.close();
    }

    private static URI uri(String pathAndQuery) {
        return URI.create("https://127.0.0.1:" + server.httpsPort() + pathAndQuery);
    }

    @Test
    void tlsUsesBoringSslWhereItsNativeLibraryLoads() {
        assumeTrue(System.getProperty("os.arch").equals("amd64") && System.getProperty("os.name").equals("Linux"));
        assertThat(FakeCertificate.provider()).isEqualTo(SslProvider.OPENSSL);
    }

    @Test
    void aRequestOverHttp2IsProxiedAsHttp11WithAuthorityAsHostAndNoCodecHeaders() throws Exception {
        HttpResponse<String> r = h2.send(HttpRequest.newBuilder(uri("/a/b?x=1")).header("X-Test", "yes").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode echo = JSON.readTree(r.body());
        assertThat(echo.path("pod").asText()).isEqualTo("pod-1");
        assertThat(echo.path("uri").asText()).isEqualTo("/a/b?x=1");
        assertThat(echo.path("version").asText()).isEqualTo("HTTP/1.1");
        JsonNode headers = echo.path("headers");
        assertThat(headers.path("host").get(0).asText()).isEqualTo("127.0.0.1:" + server.httpsPort());
        assertThat(headers.path("x-test").get(0).asText()).isEqualTo("yes");
        assertThat(headers.path("x-forwarded-proto").get(0).asText()).isEqualTo("https");
        assertThat(headers.path("x-real-ip").get(0).asText()).isEqualTo("127.0.0.1");
        headers.fieldNames().forEachRemaining(name -> assertThat(name).doesNotStartWith("x-http2"));
        assertThat(r.headers().firstValue("x-pod")).hasValue("pod-1");
        assertThat(r.headers().firstValue("server")).isEmpty();
        assertThat(r.headers().firstValue("strict-transport-security")).isPresent();
        assertThat(r.headers().firstValue("transfer-encoding")).isEmpty();
        assertThat(r.headers().firstValue("connection")).isEmpty();
    }

    @Test
    void localResponsesAndBodylessResponsesWorkOverHttp2() throws Exception {
        HttpResponse<String> notFound = h2.send(HttpRequest.newBuilder(uri("/x"))
                        .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(notFound.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(notFound.statusCode()).isEqualTo(200);
        HttpResponse<String> noContent = h2.send(HttpRequest.newBuilder(uri("/x?status=204")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(noContent.statusCode()).isEqualTo(204);
        assertThat(noContent.body()).isEmpty();
    }

    @Test
    void manyConcurrentStreamsShareOneConnection() throws Exception {
        // one request first: the JDK client opens a connection per request until it has an HTTP/2 one
        assertThat(h2.send(HttpRequest.newBuilder(uri("/warm")).build(), HttpResponse.BodyHandlers.ofString())
                .version()).isEqualTo(HttpClient.Version.HTTP_2);
        int before = pod.requestsReceived();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < 40; i++) {
            all.add(h2.sendAsync(HttpRequest.newBuilder(uri("/slow/" + i + "?delayMs=500")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < all.size(); i++) {
            HttpResponse<String> r = all.get(i).get(20, TimeUnit.SECONDS);
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(r.body()).path("uri").asText()).isEqualTo("/slow/" + i + "?delayMs=500");
        }
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(tookMillis).as("40 streams of 500 ms each ran in parallel").isLessThan(5_000);
        assertThat(pod.requestsReceived() - before).isEqualTo(40);
        assertThat(server.clientChannels()).hasSize(1);
    }

    @Test
    void responsesThatArriveWhileTheClientIsSilentAreSentWithoutWaitingForIt() throws Exception {
        // the connection's flushes are consolidated (Http2Connection): a response the upstream
        // sends while the client sends nothing must still go out, not wait for the client's next frame
        assertThat(h2.send(HttpRequest.newBuilder(uri("/warm")).build(), HttpResponse.BodyHandlers.ofString())
                .version()).isEqualTo(HttpClient.Version.HTTP_2);
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            all.add(h2.sendAsync(HttpRequest.newBuilder(uri("/quiet/" + i + "?delayMs=" + (100 + 150 * i))).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < all.size(); i++) {
            HttpResponse<String> r = all.get(i).get(10, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(r.body()).path("uri").asText()).isEqualTo("/quiet/" + i + "?delayMs=" + (100 + 150 * i));
        }
        assertThat(server.clientChannels()).hasSize(1);
        List<Class<?>> handlers = new ArrayList<>();
        server.clientChannels().iterator().next().pipeline().forEach(e -> handlers.add(e.getValue().getClass()));
        assertThat(handlers).as("flushes consolidated below the HTTP/2 codec, above TLS")
                .containsSubsequence(SslHandler.class, FlushConsolidationHandler.class, Http2FrameCodec.class);
    }

    @Test
    void aLargeUploadStreamsThrough() throws Exception {
        long n = 48L * 1024 * 1024;
        HttpResponse<String> r = h2.send(HttpRequest.newBuilder(uri("/upload"))
                        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> TestBackend.patternStream(n))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode echo = JSON.readTree(r.body());
        assertThat(echo.path("bodyBytes").asLong()).isEqualTo(n);
        assertThat(echo.path("bodyCrc32").asLong()).isEqualTo(TestBackend.patternCrc(n));
        // no Content-Length from the client: the upstream gets the body chunked
        assertThat(echo.path("headers").path("transfer-encoding").get(0).asText()).isEqualTo("chunked");
    }

    @Test
    void aLargeDownloadStreamsThroughWhileTheClientPauses() throws Exception {
        long n = 64L * 1024 * 1024;
        HttpResponse<InputStream> r = h2.send(HttpRequest.newBuilder(uri("/big?download=" + n)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(r.headers().firstValueAsLong("content-length")).hasValue(n);
        CRC32 crc = new CRC32();
        long total = 0;
        byte[] buf = new byte[65536];
        try (InputStream in = r.body()) {
            int len;
            while ((len = in.read(buf)) > 0) {
                if (total == 0) {
                    Thread.sleep(1000); // the windows fill up; the proxy must wait, not buffer or fail
                }
                crc.update(buf, 0, len);
                total += len;
            }
        }
        assertThat(total).isEqualTo(n);
        assertThat(crc.getValue()).isEqualTo(TestBackend.patternCrc(n));
    }

    @Test
    void http11ClientsStillWorkOnTheTlsListener() throws Exception {
        HttpClient h1 = Http2Clients.trustingAll(HttpClient.Version.HTTP_1_1);
        HttpResponse<String> r = h1.send(HttpRequest.newBuilder(uri("/h1")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        assertThat(r.statusCode()).isEqualTo(200);
        try (RawHttpClient c = RawHttpClient.connectTls(server.httpsPort(), "h2.test")) { // no ALPN at all
            RawHttpClient.Response raw = c.exchange("GET /raw HTTP/1.1\r\nHost: h2.test\r\n\r\n");
            assertThat(raw.status()).isEqualTo(200);
            assertThat(raw.header("x-pod")).isEqualTo("named-1");
        }
    }

    @Test
    void curlOverHttp2IsRoutedByAuthority() throws Exception {
        assumeTrue(new java.io.File("/usr/bin/curl").canExecute(), "curl is not installed");
        int port = server.httpsPort();
        Process p = new ProcessBuilder("curl", "-sk", "--http2", "--max-time", "10",
                "--resolve", "h2.test:" + port + ":127.0.0.1",
                "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "-H", "X-Trace: 1",
                "https://h2.test:" + port + "/curl").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
        assertThat(out).isEqualTo("2 200");
        int before = named.requestsReceived();
        Process q = new ProcessBuilder("curl", "-sk", "--http2", "--max-time", "10",
                "--resolve", "h2.test:" + port + ":127.0.0.1", "https://h2.test:" + port + "/again")
                .redirectErrorStream(true).start();
        JsonNode echo = JSON.readTree(q.getInputStream().readAllBytes());
        q.waitFor(15, TimeUnit.SECONDS);
        assertThat(echo.path("pod").asText()).isEqualTo("named-1");
        assertThat(echo.path("headers").path("host").get(0).asText()).isEqualTo("h2.test:" + port);
        assertThat(named.requestsReceived()).isEqualTo(before + 1);
    }

    @Test
    void drainingSendsGoAwayAndLetsOpenStreamsFinish() throws Exception {
        // curl, not the JDK client: Java 17's HttpClient fails every stream on any GOAWAY
        assumeTrue(new java.io.File("/usr/bin/curl").canExecute(), "curl is not installed");
        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(tableWithCatchAll(host("", prefix("/", "default/any", backend("any", pod)))));
        GatewayServer own = GatewayServer.builder().routes(holder).bindAddress("127.0.0.1").httpPort(0).httpsPort(0)
                .eventLoops(1).build();
        own.start();
        try {
            int before = pod.requestsReceived();
            Process p = new ProcessBuilder("curl", "-sk", "--http2", "--max-time", "10", "-o", "/dev/null",
                    "-w", "%{http_version} %{http_code}",
                    "https://127.0.0.1:" + own.httpsPort() + "/slow?delayMs=1500").redirectErrorStream(true).start();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> pod.requestsReceived() > before);
            Thread.sleep(200); // the stream is open and waiting for the upstream
            long start = System.nanoTime();
            own.shutdown(Duration.ofSeconds(10));
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(out).isEqualTo("2 200");
            assertThat(tookMillis).as("closed as soon as its last stream ended, not at the end of the grace period")
                    .isLessThan(5_000);
        } finally {
            own.close();
        }
    }
}
