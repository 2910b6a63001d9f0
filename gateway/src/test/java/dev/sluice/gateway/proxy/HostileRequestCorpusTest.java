package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.route.RouteTableHolder;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The raw-socket corpus of hostile requests: bytes in over a socket to a real proxy on
 * loopback, in front of a {@link RawBackend} that records what reaches it; out: the status, whether
 * the connection was closed, and what the upstream saw. Every rejected request is one the
 * upstream never sees, not even in part of a later request (each carries a smuggled
 * {@code GET /smuggled} in what would be its body), so no request can be read two ways.
 *
 * <p>Statuses are NGINX's (1.25, as in ingress-nginx): 414 for a request line over 8 KiB, 431
 * for a header line over 8 KiB or a head over 32 KiB ({@code large-client-header-buffers 4 8k};
 * NGINX says 400 "Request Header Or Cookie Too Large"), 501 for a {@code Transfer-Encoding}
 * other than {@code chunked}, 400 for anything else malformed.
 */
class HostileRequestCorpusTest {
    static final String HOST = "corpus.example.com";
    static final String SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n";
    static final RouteTableHolder routes = new RouteTableHolder();
    static RawBackend upstream;
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        upstream = RawBackend.ok("127.0.0.2");
        routes.publish(table(host(HOST, prefix("/", "default/corpus", backend("default-corpus-80", upstream.endpoint())))));
        server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        upstream.close();
    }

    @BeforeEach
    void forget() {
        upstream.clear();
    }

    static Stream<Arguments> rejected() {
        String h = "Host: " + HOST + "\r\n";
        return Stream.of(
                // limits
                Arguments.of("request line over 8 KiB", "GET /" + "a".repeat(8200) + " HTTP/1.1\r\n" + h + "\r\n", 414),
                Arguments.of("one header line over 8 KiB", "GET / HTTP/1.1\r\n" + h + "X-Big: " + "b".repeat(8200) + "\r\n\r\n", 431),
                Arguments.of("headers over 32 KiB", "GET / HTTP/1.1\r\n" + h + ("X-Big: " + "b".repeat(4000) + "\r\n").repeat(9) + "\r\n", 431),
                Arguments.of("ten thousand headers", "GET / HTTP/1.1\r\n" + h + "a: b\r\n".repeat(10_000) + "\r\n", 431),
                // characters
                Arguments.of("NUL in a header value", "GET / HTTP/1.1\r\n" + h + "X-A: a\0b\r\n\r\n", 400),
                Arguments.of("NUL in the URI", "GET /a\0b HTTP/1.1\r\n" + h + "\r\n", 400),
                Arguments.of("control character in a header name", "GET / HTTP/1.1\r\n" + h + "X\u0001A: b\r\n\r\n", 400),
                Arguments.of("space in a header name", "GET / HTTP/1.1\r\n" + h + "X A: b\r\n\r\n", 400),
                Arguments.of("space before the colon", "GET / HTTP/1.1\r\n" + h + "X-A : b\r\n\r\n", 400),
                Arguments.of("bare CR in a header value", "GET / HTTP/1.1\r\n" + h + "X-A: a\rX-B: b\r\n\r\n", 400),
                Arguments.of("header line without a colon", "GET / HTTP/1.1\r\n" + h + "X-A\r\n\r\n", 400),
                Arguments.of("obsolete line folding", "GET / HTTP/1.1\r\n" + h + "X-A: a\r\n b\r\n\r\n", 400),
                Arguments.of("obsolete line folding with a tab", "GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n" + h + "\r\n", 400),
                Arguments.of("a folded Host", "GET / HTTP/1.1\r\nHost: evil.example.com\r\n " + HOST + "\r\n\r\n", 400),
                // request line
                Arguments.of("method with a separator", "G(T / HTTP/1.1\r\n" + h + "\r\n", 400),
                Arguments.of("space in the request target", "GET /a b HTTP/1.1\r\n" + h + "\r\n", 400),
                Arguments.of("DEL in the request target", "GET /a\u007fb HTTP/1.1\r\n" + h + "\r\n", 400),
                Arguments.of("unknown protocol", "GET / FOO/1.1\r\n" + h + "\r\n", 400),
                Arguments.of("version without minor", "GET / HTTP/1\r\n" + h + "\r\n", 400),
                Arguments.of("a fourth word in the request line", "GET / HTTP/1.1 x\r\n" + h + "\r\n", 400),
                Arguments.of("request line only a word", "GARBAGE\r\n\r\n", 400),
                Arguments.of("lower-case method (a backend may read it as GET)", "get / HTTP/1.1\r\n" + h + "\r\n", 400),
                Arguments.of("mixed-case method", "Post / HTTP/1.1\r\n" + h + "Content-Length: 0\r\n\r\n", 400),
                Arguments.of("HTTP/2.0 in an HTTP/1 request line (NGINX: 505)", "GET / HTTP/2.0\r\n" + h + "\r\n", 505),
                Arguments.of("HTTP/9.9", "GET / HTTP/9.9\r\n" + h + "\r\n", 505),
                Arguments.of("the HTTP/2 preface without h2c", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
                // Host (NGINX: "client sent invalid host header")
                Arguments.of("a path in Host", "GET / HTTP/1.1\r\nHost: " + HOST + "/evil\r\n\r\n", 400),
                Arguments.of("two dots in Host", "GET / HTTP/1.1\r\nHost: corpus..example.com\r\n\r\n", 400),
                Arguments.of("empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400),
                Arguments.of("a path in an absolute-form target's host",
                        "GET http://" + HOST + "\\evil/ HTTP/1.1\r\n" + h + "\r\n", 400),
                // targets the router refuses: the connection closes too
                Arguments.of("asterisk target", "OPTIONS * HTTP/1.1\r\n" + h + "\r\n" + SMUGGLED, 400),
                Arguments.of("target above the root", "GET /../../etc/passwd HTTP/1.1\r\n" + h + "\r\n" + SMUGGLED, 400),
                Arguments.of("target without a slash", "GET nope HTTP/1.1\r\n" + h + "\r\n" + SMUGGLED, 400),
                Arguments.of("CONNECT (NGINX: 405; forwarded, a 2xx would make the upstream a tunnel)",
                        "CONNECT /pub HTTP/1.1\r\n" + h + "\r\n0\r\n\r\n" + SMUGGLED, 405),
                Arguments.of("CONNECT to an authority", "CONNECT " + HOST + ":443 HTTP/1.1\r\n" + h + "\r\n", 405),
                // framing: no request may be read two ways
                Arguments.of("Content-Length and Transfer-Encoding",
                        "POST / HTTP/1.1\r\n" + h + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("Transfer-Encoding and Content-Length",
                        "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("duplicate differing Content-Length",
                        "POST / HTTP/1.1\r\n" + h + "Content-Length: 0\r\nContent-Length: 40\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("duplicate equal Content-Length",
                        "POST / HTTP/1.1\r\n" + h + "Content-Length: 40\r\nContent-Length: 40\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("Content-Length list", "POST / HTTP/1.1\r\n" + h + "Content-Length: 0, 40\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("signed Content-Length", "POST / HTTP/1.1\r\n" + h + "Content-Length: +40\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("negative Content-Length", "POST / HTTP/1.1\r\n" + h + "Content-Length: -1\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("hex Content-Length", "POST / HTTP/1.1\r\n" + h + "Content-Length: 0x28\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("duplicate Transfer-Encoding lines",
                        "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 501),
                Arguments.of("Transfer-Encoding gzip", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip\r\n\r\n" + SMUGGLED, 501),
                Arguments.of("Transfer-Encoding gzip, chunked",
                        "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 501),
                Arguments.of("Transfer-Encoding chunked, identity",
                        "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + SMUGGLED, 501),
                Arguments.of("Transfer-Encoding with a vertical tab",
                        "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: \u000bchunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("a bare LF line ending (accepted by NGINX, refused here)",
                        "POST / HTTP/1.1\n" + h + "Content-Length: 40\n\n" + SMUGGLED, 400),
                Arguments.of("Transfer-Encoding in HTTP/1.0",
                        "POST / HTTP/1.0\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("chunk size not hex", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + SMUGGLED, 400),
                Arguments.of("chunk size overflowing",
                        "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n10000000000000000a\r\n" + SMUGGLED, 400),
                Arguments.of("negative chunk size", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n-5\r\n" + SMUGGLED, 400),
                Arguments.of("empty chunk size", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("chunk extension over 8 KiB",
                        "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n1;" + "a=b;".repeat(4000) + "\r\nx\r\n0\r\n\r\n" + SMUGGLED, 400),
                Arguments.of("chunk data longer than its size",
                        "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n1\r\nxyz\r\n0\r\n\r\n" + SMUGGLED, 400));
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("rejected")
    void aMalformedRequestIsRejectedTheConnectionClosedAndNothingReachesTheUpstream(String what, String raw, int status) {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange(raw);
            assertThat(r.status()).as(what).isEqualTo(status);
            assertThat(r.header("Connection")).as(what).isEqualTo("close");
            assertThat(c.closedByServer()).as(what + ": closed").isTrue();
        }
        // the upstream saw no complete request: neither this one nor the one hidden in its body
        assertThat(upstream.requests()).as(what).isEmpty();
        // and the proxy keeps serving
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            assertThat(c.exchange("GET /after HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status()).isEqualTo(200);
        }
    }

    @Test
    void anAbsoluteFormTargetsHostWinsOverTheHostHeaderForRoutingAndTheUpstream() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            // routed by the target's host: served, though the Host header names no host of the table
            RawHttpClient.Response r = c.exchange("GET http://" + HOST + "/abs?x=1 HTTP/1.1\r\nHost: other.invalid\r\n\r\n");
            assertThat(r.status()).isEqualTo(200);
        }
        assertThat(upstream.requests()).singleElement().satisfies(seen -> {
            assertThat(seen).startsWith("GET /abs?x=1 HTTP/1.1\r\n").contains("Host: " + HOST + "\r\n")
                    .doesNotContain("other.invalid");
        });
        upstream.clear();
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            // and the other way round: a known Host header does not route an unknown target host
            assertThat(c.exchange("GET http://other.invalid/ HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status())
                    .isEqualTo(404);
        }
        assertThat(upstream.requests()).isEmpty();
    }

    @Test
    void headerNamesWithUnderscoresAreDroppedAndTheRestIsProxied() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("GET / HTTP/1.1\r\nHost: " + HOST
                    + "\r\nX_Forwarded_For: 10.0.0.1\r\nX-Real_IP: 10.0.0.2\r\nX-Kept: yes\r\n\r\n");
            assertThat(r.status()).isEqualTo(200);
        }
        assertThat(upstream.requests()).singleElement().satisfies(seen -> {
            assertThat(seen).contains("X-Kept: yes").doesNotContain("X_Forwarded_For").doesNotContain("10.0.0.1")
                    .doesNotContain("X-Real_IP").doesNotContain("10.0.0.2");
        });
    }

    @Test
    void aLengthDelimitedBodyAndTheRequestAfterItReachTheUpstreamAsTwoRequests() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("POST /one HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: 5\r\n\r\nhello"
                    + "GET /two HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            assertThat(c.read().status()).isEqualTo(200);
        }
        assertThat(upstream.requests()).hasSize(2);
        assertThat(upstream.requests().get(0)).startsWith("POST /one HTTP/1.1\r\n").endsWith("\r\n\r\nhello")
                .containsIgnoringCase("Content-Length: 5");
        assertThat(upstream.requests().get(1)).startsWith("GET /two HTTP/1.1\r\n");
    }

    @Test
    void aChunkedBodyWithExtensionsAndTrailersReachesTheUpstreamAsOneChunkedRequest() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("POST /one HTTP/1.1\r\nHost: " + HOST + "\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5;name=value\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n"
                    + "GET /two HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            assertThat(c.read().status()).isEqualTo(200);
        }
        assertThat(upstream.requests()).hasSize(2);
        String first = upstream.requests().get(0);
        assertThat(first).startsWith("POST /one HTTP/1.1\r\n").contains("hello").doesNotContain("GET /two");
        assertThat(upstream.requests().get(1)).startsWith("GET /two HTTP/1.1\r\n");
    }

    @Test
    void extraSpacesBeforeTheTargetAreAcceptedAsNginxDoesAndForwardedWithOne() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            assertThat(c.exchange("GET  /spaces HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").status()).isEqualTo(200);
        }
        assertThat(upstream.requests()).singleElement().satisfies(seen -> assertThat(seen).startsWith("GET /spaces HTTP/1.1\r\n"));
    }

    @Test
    void aHeadRequestGetsNoBodyAfterItsHeadOnAKeepAliveConnection() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response head = c.send("HEAD / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").readHead();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Content-Length")).isEqualTo("2");
            RawHttpClient.Response get = c.exchange("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
            assertThat(get.status()).isEqualTo(200);
            assertThat(get.text()).isEqualTo("ok");
        }
    }

    @Test
    void aFoldAfterAValidPipelinedRequestRejectsOnlyTheSecond() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("POST /first HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: 7\r\n\r\nx\r\n y\r\n"
                    + "GET /second HTTP/1.1\r\nHost: " + HOST + "\r\nX-A: a\r\n b\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200); // a body may contain anything
            RawHttpClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(400);
            assertThat(c.closedByServer()).isTrue();
        }
        assertThat(upstream.requests()).singleElement().satisfies(seen -> assertThat(seen).startsWith("POST /first "));
    }
}
