package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bodies stream through the proxy in both directions, with back-pressure, over keep-alive connections. */
class ProxyStreamingTest {
    static final long BIG = 24L * 1024 * 1024;
    /** These tests stream bodies far above the default {@code proxy-body-size} (1m). */
    static final RouteOptions UNLIMITED = RouteOptions.DEFAULTS.withMaxBodySize(0);
    static final String HOST = "stream.example.com";

    static TestBackend web;
    static final RouteTableHolder routes = new RouteTableHolder();
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        web = TestBackend.start("web-1", "127.0.0.2");
        routes.publish(table(host(HOST, prefix("/", "default/stream", backend("default-web-80", web), UNLIMITED))));
        server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        web.close();
    }

    @Test
    void uploadWithContentLength() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("PUT /upload HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: " + BIG + "\r\n\r\n");
            c.sendPatternBody(BIG, false);
            RawHttpClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().get("bodyBytes").asLong()).isEqualTo(BIG);
            assertThat(r.json().get("bodyCrc32").asLong()).isEqualTo(TestBackend.patternCrc(BIG));
            assertThat(r.echoedHeader("content-length")).isEqualTo(Long.toString(BIG));
            assertThat(r.echoedHeader("transfer-encoding")).isNull();
        }
    }

    @Test
    void chunkedUpload() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("POST /upload HTTP/1.1\r\nHost: " + HOST + "\r\nTransfer-Encoding: chunked\r\n\r\n");
            c.sendPatternBody(BIG, true);
            RawHttpClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().get("bodyBytes").asLong()).isEqualTo(BIG);
            assertThat(r.json().get("bodyCrc32").asLong()).isEqualTo(TestBackend.patternCrc(BIG));
            assertThat(r.echoedHeader("transfer-encoding")).isEqualTo("chunked");
        }
    }

    @Test
    void downloadWithContentLength() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.send("GET /file?download=" + BIG + " HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n")
                    .readCounting();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Content-Length")).isEqualTo(Long.toString(BIG));
            assertThat(r.bodyLength()).isEqualTo(BIG);
            assertThat(r.bodyCrc32()).isEqualTo(TestBackend.patternCrc(BIG));
        }
    }

    @Test
    void chunkedDownload() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.send("GET /file?download=" + BIG + "&chunked=1 HTTP/1.1\r\nHost: " + HOST
                    + "\r\n\r\n").readCounting();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Transfer-Encoding")).isEqualTo("chunked");
            assertThat(r.bodyLength()).isEqualTo(BIG);
            assertThat(r.bodyCrc32()).isEqualTo(TestBackend.patternCrc(BIG));
            // the connection is still usable
            assertThat(c.exchange("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status()).isEqualTo(200);
        }
    }

    @Test
    void chunkedDownloadToAnHttp10ClientEndsWithClose() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.send("GET /file?download=100000&chunked=1 HTTP/1.0\r\nHost: " + HOST
                    + "\r\nConnection: keep-alive\r\n\r\n").readCounting();
            assertThat(r.header("Transfer-Encoding")).isNull();
            assertThat(r.header("Connection")).isEqualTo("close");
            assertThat(r.bodyLength()).isEqualTo(100000);
            assertThat(r.bodyCrc32()).isEqualTo(TestBackend.patternCrc(100000));
        }
    }

    @Test
    void headResponseHasNoBody() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.send("HEAD /file?download=5000 HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").readHead();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Content-Length")).isEqualTo("5000");
            // the next response on the connection parses cleanly: no stray body bytes
            assertThat(c.exchange("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").json().get("pod").asText())
                    .isEqualTo("web-1");
        }
    }

    @Test
    void keepAliveIsReusedOnBothSides() {
        try (TestBackend fresh = TestBackend.start("fresh", "127.0.0.6")) {
            routes.publish(table(host("fresh.example.com", prefix("/", "default/fresh", backend("default-fresh-80", fresh))),
                    host(HOST, prefix("/", "default/stream", backend("default-web-80", web), UNLIMITED))));
            try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
                for (int i = 0; i < 5; i++) {
                    assertThat(c.exchange("GET /" + i + " HTTP/1.1\r\nHost: fresh.example.com\r\n\r\n").status()).isEqualTo(200);
                }
            }
            // another client connection on the same (single) event loop reuses the pooled upstream connection
            try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
                for (int i = 0; i < 5; i++) {
                    assertThat(c.exchange("POST /p HTTP/1.1\r\nHost: fresh.example.com\r\nContent-Length: 3\r\n\r\nabc")
                            .json().get("bodyBytes").asInt()).isEqualTo(3);
                }
            }
            assertThat(fresh.requestsReceived()).isEqualTo(10);
            assertThat(fresh.connectionsAccepted()).isEqualTo(1);
        } finally {
            routes.publish(table(host(HOST, prefix("/", "default/stream", backend("default-web-80", web), UNLIMITED))));
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("GET /one?delayMs=100 HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n"
                    + "POST /two HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: 4\r\n\r\nabcd"
                    + "GET /three HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
            assertThat(c.read().json().get("uri").asText()).isEqualTo("/one?delayMs=100");
            RawHttpClient.Response two = c.read();
            assertThat(two.json().get("uri").asText()).isEqualTo("/two");
            assertThat(two.json().get("bodyBytes").asInt()).isEqualTo(4);
            assertThat(c.read().json().get("uri").asText()).isEqualTo("/three");
        }
    }

    @Test
    void aSlowUpstreamHoldsBackTheUpload() throws Exception {
        // an upstream that accepts but does not read: the proxy must stop reading the client
        try (ServerSocket stalled = new ServerSocket()) {
            stalled.bind(new InetSocketAddress("127.0.0.7", 0));
            routes.publish(table(host("stall.example.com", prefix("/", "default/stall",
                    backend("default-stall-80", Endpoint.of("127.0.0.7", stalled.getLocalPort())), UNLIMITED))));
            long total = 256L * 1024 * 1024;
            AtomicLong written = new AtomicLong();
            try (Socket client = new Socket("127.0.0.1", server.httpPort())) {
                Thread writer = new Thread(() -> {
                    try {
                        OutputStream out = client.getOutputStream();
                        out.write(("PUT / HTTP/1.1\r\nHost: stall.example.com\r\nContent-Length: " + total + "\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                        byte[] chunk = new byte[64 * 1024];
                        for (long n = 0; n < total; n += chunk.length) {
                            out.write(chunk);
                            written.addAndGet(chunk.length);
                        }
                    } catch (IOException e) {
                        // closed by the test
                    }
                });
                writer.setDaemon(true);
                writer.start();
                Socket upstream = stalled.accept();
                awaitStable(written);
                // kernel socket buffers hold some megabytes; a proxy without back-pressure takes it all
                assertThat(written.get()).isLessThan(64L * 1024 * 1024);
                upstream.close();
            }
        } finally {
            routes.publish(table(host(HOST, prefix("/", "default/stream", backend("default-web-80", web), UNLIMITED))));
        }
    }

    @Test
    void aSlowClientHoldsBackTheDownload() throws Exception {
        // an upstream that writes a huge body as fast as it can to a client that does not read
        try (ServerSocket fast = new ServerSocket()) {
            fast.bind(new InetSocketAddress("127.0.0.7", 0));
            routes.publish(table(host("fast.example.com", prefix("/", "default/fast",
                    backend("default-fast-80", Endpoint.of("127.0.0.7", fast.getLocalPort())), UNLIMITED))));
            long total = 256L * 1024 * 1024;
            AtomicLong written = new AtomicLong();
            try (Socket client = new Socket("127.0.0.1", server.httpPort())) {
                client.getOutputStream().write("GET / HTTP/1.1\r\nHost: fast.example.com\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                Socket upstream = fast.accept();
                Thread writer = new Thread(() -> {
                    try {
                        InputStream in = upstream.getInputStream();
                        while (in.available() == 0) {
                            Thread.sleep(5); // read the request head
                        }
                        in.readNBytes(in.available());
                        OutputStream out = upstream.getOutputStream();
                        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + total + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        byte[] chunk = new byte[64 * 1024];
                        for (long n = 0; n < total; n += chunk.length) {
                            out.write(chunk);
                            written.addAndGet(chunk.length);
                        }
                    } catch (IOException | InterruptedException e) {
                        // closed by the test
                    }
                });
                writer.setDaemon(true);
                writer.start();
                awaitStable(written);
                assertThat(written.get()).isLessThan(64L * 1024 * 1024);
                upstream.close();
            }
        } finally {
            routes.publish(table(host(HOST, prefix("/", "default/stream", backend("default-web-80", web), UNLIMITED))));
        }
    }

    /** Waits until {@code counter} has stopped growing for half a second. */
    private static void awaitStable(AtomicLong counter) {
        long[] last = {-1};
        long[] since = {System.nanoTime()};
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
            long now = counter.get();
            if (now != last[0]) {
                last[0] = now;
                since[0] = System.nanoTime();
                return false;
            }
            return now > 0 && System.nanoTime() - since[0] > 500_000_000L;
        });
    }
}
