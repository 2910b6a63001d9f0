package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.route.RouteTableHolder;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The other direction of the corpus: a backend that answers with a head that could be read two
 * ways, or not at all (response splitting, an invalid status line, conflicting lengths, a head
 * larger than the proxy buffers). NGINX answers those 502 ("upstream sent invalid header"); so
 * does Sluice, and nothing of the bad head reaches the client.
 */
class HostileResponseCorpusTest {
    static final String HOST = "responses.example.com";
    static final RouteTableHolder routes = new RouteTableHolder();
    static final Map<String, String> answers = new ConcurrentHashMap<>();
    static RawBackend upstream;
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        upstream = RawBackend.start("127.0.0.2", head -> {
            String path = head.substring(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
            return RawBackend.Answer.keep(answers.getOrDefault(path, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        });
        routes.publish(table(host(HOST, prefix("/", "default/responses", backend("default-responses-80", upstream.endpoint())))));
        server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).build();
        server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
        upstream.close();
    }

    static Stream<Arguments> badHeads() {
        return Stream.of(
                Arguments.of("bare CR in a header value", "HTTP/1.1 200 OK\r\nX-A: a\rSet-Cookie: evil=1\r\nContent-Length: 2\r\n\r\nok"),
                Arguments.of("bare LF between headers", "HTTP/1.1 200 OK\r\nX-A: a\nSet-Cookie: evil=1\r\nContent-Length: 2\r\n\r\nok"),
                Arguments.of("NUL in a header value", "HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 2\r\n\r\nok"),
                Arguments.of("control character in a header name", "HTTP/1.1 200 OK\r\nX\u0001A: b\r\nContent-Length: 2\r\n\r\nok"),
                Arguments.of("status not a number", "HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\nok"),
                Arguments.of("status of four digits", "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok"),
                Arguments.of("unknown protocol", "FOO/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
                Arguments.of("no status line", "Content-Length: 2\r\n\r\nok"),
                Arguments.of("duplicate differing Content-Length",
                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\nok"),
                Arguments.of("Content-Length list", "HTTP/1.1 200 OK\r\nContent-Length: 2, 40\r\n\r\nok"),
                Arguments.of("negative Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok"),
                Arguments.of("Content-Length and Transfer-Encoding",
                        "HTTP/1.1 200 OK\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
                Arguments.of("a head over 64 KiB",
                        "HTTP/1.1 200 OK\r\n" + ("X-Big: " + "b".repeat(4000) + "\r\n").repeat(20) + "Content-Length: 2\r\n\r\nok"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badHeads")
    void aResponseHeadThatCouldBeReadTwoWaysGives502AndNothingOfIt(String what, String raw) {
        String path = "/bad/" + Integer.toHexString(what.hashCode());
        answers.put(path, raw);
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("GET " + path + " HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
            assertThat(r.status()).as(what).isEqualTo(502);
            assertThat(r.headers(("Set-Cookie"))).as(what).isEmpty();
            assertThat(r.header("X-A")).as(what).isNull();
            // the client's connection stays usable, and the pool serves the next request
            assertThat(c.exchange("GET /fine HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").text()).isEqualTo("ok");
        }
    }

    @Test
    void aHeaderNameWithASpaceFromTheBackendBecomesNoHeaderOfTheClient() {
        // NGINX answers 502; Netty keeps the name up to the space (documented in docs/security.md)
        answers.put("/spaced", "HTTP/1.1 200 OK\r\nSet Cookie: evil=1\r\nContent-Length: 2\r\n\r\nok");
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("GET /spaced HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.headers("Set-Cookie")).isEmpty();
            assertThat(r.headers()).noneMatch(h -> h.getKey().contains(" ") || h.getValue().contains("\r"));
        }
    }

    @Test
    void headerValuesFromTheBackendCannotAddHeadersForTheClient() {
        // a fold is joined into one value; the value goes to the client on one line
        answers.put("/folded", "HTTP/1.1 200 OK\r\nX-A: a\r\n Set-Cookie: evil=1\r\nContent-Length: 2\r\n\r\nok");
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("GET /folded HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n");
            List<String> cookies = r.headers("Set-Cookie");
            assertThat(cookies).isEmpty();
            if (r.status() == 200) {
                assertThat(r.header("X-A")).doesNotContain("\r").doesNotContain("\n");
            } else {
                assertThat(r.status()).isEqualTo(502);
            }
        }
    }
}
