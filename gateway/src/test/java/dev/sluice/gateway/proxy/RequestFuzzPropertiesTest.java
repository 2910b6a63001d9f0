package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.request.PathNormalizer;
import dev.sluice.gateway.route.RouteTableHolder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Requests made of fragments an attacker would try, then mutated byte by byte, sent over a raw
 * socket to a real proxy. Whatever arrives, the proxy never crashes or hangs (it answers and
 * closes within a socket timeout; its keep-alive and body timeouts are short here), what comes
 * back is a sequence of well-formed responses, and the backend, which the table opens only for
 * {@code public.example.com/pub}, never sees a request for another host or path.
 */
class RequestFuzzPropertiesTest {
    static final String HOST = "public.example.com";
    static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.1 ([1-5][0-9][0-9]) [^\r\n]*");
    static final RouteTableHolder routes = new RouteTableHolder();
    static RawBackend upstream;
    static GatewayServer server;

    @BeforeContainer
    static void start() throws Exception {
        upstream = RawBackend.ok("127.0.0.2");
        routes.publish(table(host(HOST, prefix("/pub", "default/public", backend("default-public-80", upstream.endpoint())))));
        server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).keepAliveTimeout(Duration.ofMillis(300)).clientBodyTimeout(Duration.ofMillis(300)).build();
        server.start();
    }

    @AfterContainer
    static void stop() {
        server.close();
        upstream.close();
    }

    @Property(tries = 120, shrinking = ShrinkingMode.BOUNDED)
    void anyBytesGetWellFormedResponsesOrACloseAndOnlyAllowedRequestsPass(@ForAll("requests") byte[] raw)
            throws IOException {
        upstream.clear();
        byte[] answer = exchange(raw);
        // a response to HEAD announces a length and has no body; the bytes sent may hold a HEAD request
        assertWellFormed(answer, new String(raw, StandardCharsets.ISO_8859_1).contains("HEAD"));
        for (String seen : upstream.requests()) {
            assertThat(allowed(seen)).as("the backend saw:\n%s", seen).isTrue();
        }
        assertThat(server.metrics()).isNotNull();
    }

    /** Sends {@code raw} and reads until the proxy closes; a hang fails on the socket timeout. */
    private static byte[] exchange(byte[] raw) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", server.httpPort()), 5000);
            s.setSoTimeout(10_000);
            try {
                s.getOutputStream().write(raw);
                s.getOutputStream().flush();
            } catch (IOException e) {
                // the proxy may close before it read everything (a 400 on the first line)
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = in.read(buf)) != -1) {
                    out.write(buf, 0, n);
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the proxy neither answered nor closed within 10 s; got:\n"
                        + out.toString(StandardCharsets.ISO_8859_1), e);
            } catch (IOException e) {
                // a reset after the proxy's answer: what was read counts
            }
            return out.toByteArray();
        }
    }

    /** The bytes are zero or more complete responses, each with a status line, headers and a framed body. */
    private static void assertWellFormed(byte[] bytes, boolean headPossible) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int pos = 0;
        while (pos < text.length()) {
            int headEnd = text.indexOf("\r\n\r\n", pos);
            assertThat(headEnd).as("an unterminated head in:\n%s", text).isGreaterThan(0);
            String[] lines = text.substring(pos, headEnd).split("\r\n", -1);
            Matcher status = STATUS_LINE.matcher(lines[0]);
            assertThat(status.matches()).as("status line %s", lines[0]).isTrue();
            long length = -1;
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                assertThat(colon).as("header line %s", lines[i]).isGreaterThan(0);
                if (lines[i].substring(0, colon).equalsIgnoreCase("content-length")) {
                    length = Long.parseLong(lines[i].substring(colon + 1).trim());
                }
            }
            pos = headEnd + 4;
            int code = Integer.parseInt(status.group(1));
            if (code == 204 || code == 304 || code < 200) {
                continue;
            }
            assertThat(length).as("every response of the proxy here has a Content-Length:\n%s", text).isNotNegative();
            boolean bodyFollows = pos + length == text.length() || text.startsWith("HTTP/1.1 ", (int) (pos + length));
            if (headPossible && !bodyFollows && (pos == text.length() || text.startsWith("HTTP/1.1 ", pos))) {
                continue; // the answer to a HEAD request
            }
            assertThat(pos + length).as("body of %s", lines[0]).isLessThanOrEqualTo(text.length());
            pos += (int) length;
        }
    }

    /** Whether the table lets {@code request} (as the backend saw it) through: host public.example.com, path under /pub. */
    private static boolean allowed(String request) {
        String[] lines = request.split("\r\n");
        String[] first = lines[0].split(" ");
        String target = first[1];
        int q = target.indexOf('?');
        String path = PathNormalizer.normalize(q >= 0 ? target.substring(0, q) : target);
        if (path == null || !(path.equals("/pub") || path.startsWith("/pub"))) {
            return false;
        }
        int hosts = 0;
        for (String l : lines) {
            if (l.regionMatches(true, 0, "host:", 0, 5)) {
                hosts++;
                String h = l.substring(5).trim().toLowerCase(Locale.ROOT);
                if (!h.equals(HOST) && !h.equals(HOST + ".") && !h.startsWith(HOST + ":")) {
                    return false;
                }
            }
        }
        return hosts == 1;
    }

    @Provide
    Arbitrary<byte[]> requests() {
        Arbitrary<String> method = Arbitraries.of("GET", "POST", "HEAD", "PUT", "OPTIONS", "G T", "", "get", "CONNECT");
        Arbitrary<String> target = Arbitraries.of("/pub", "/pub/x?y=1", "/pub/../secret", "/secret", "/pub%2f..%2fsecret",
                "//pub", "/PUB", "/pub/%2e%2e/secret", "http://public.example.com/secret", "*", "/pub/%00",
                "/pub/\u0000", "/pub x", "/pub/\u00ff", "pub", "/pub#frag", "/%70ub/a");
        Arbitrary<String> version = Arbitraries.of("HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "HTTP/1", "FOO", "");
        Arbitrary<String> hostHeader = Arbitraries.of("Host: public.example.com", "Host: PUBLIC.example.com.",
                "Host: other.example.com", "Host: public.example.com:80", "Host: public.example.com\u0000",
                "Host: public.example.com\r\nHost: other.example.com", "Host: other.example.com\r\n public.example.com",
                "Host:public.example.com", "Host : public.example.com", "");
        Arbitrary<String> header = Arbitraries.of("Content-Length: 5", "Content-Length: 0", "Content-Length: -1",
                "Content-Length: 99999999999999999999", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip",
                "Transfer-Encoding: chunked, identity", "Connection: close", "Connection: keep-alive, Upgrade",
                "Upgrade: websocket", "Expect: 100-continue", "X_Under: 1", "X-A: a\u0000b", "X-Fold: a\r\n b",
                "X-Long: " + "l".repeat(9000), "Cookie: a=b", "Te: trailers", ": empty", "X-Bare-Cr: a\rb");
        Arbitrary<List<String>> headers = header.list().ofMaxSize(5);
        Arbitrary<String> body = Arbitraries.of("", "hello", "0\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n", "zz\r\n",
                "GET /secret HTTP/1.1\r\nHost: public.example.com\r\n\r\n");
        Arbitrary<String> eol = Arbitraries.of("\r\n", "\r\n", "\r\n", "\n", "\r");
        Arbitrary<String> request = Combinators.combine(method, target, version, hostHeader, headers, body, eol)
                .as((m, t, v, h, hs, b, e) -> {
                    StringBuilder r = new StringBuilder().append(m).append(' ').append(t).append(' ').append(v).append(e);
                    if (!h.isEmpty()) {
                        r.append(h).append(e);
                    }
                    hs.forEach(x -> r.append(x).append(e));
                    return r.append(e).append(b).toString();
                });
        Arbitrary<String> pipelined = request.list().ofMinSize(1).ofMaxSize(3).map(l -> String.join("", l));
        Arbitrary<List<Mutation>> mutations = Combinators.combine(Arbitraries.doubles().between(0, 1),
                Arbitraries.of((byte) 0, (byte) '\r', (byte) '\n', (byte) ' ', (byte) '\t', (byte) ':', (byte) 0x7f,
                        (byte) 0xff, (byte) 'x'), Arbitraries.of(Kind.values()))
                .as(Mutation::new).list().ofMaxSize(3);
        Arbitrary<byte[]> noise = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
        Arbitrary<byte[]> structured = Combinators.combine(pipelined, mutations).as((r, ms) -> {
            byte[] b = r.getBytes(StandardCharsets.ISO_8859_1);
            for (Mutation m : ms) {
                b = m.apply(b);
            }
            return b;
        });
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(9, structured),
                net.jqwik.api.Tuple.of(1, noise));
    }

    enum Kind { INSERT, REPLACE, DELETE }

    /** One byte inserted, replaced or deleted at a relative position. */
    record Mutation(double at, byte value, Kind kind) {
        byte[] apply(byte[] in) {
            if (in.length == 0) {
                return in;
            }
            int i = (int) (at * (in.length - 1));
            ByteArrayOutputStream out = new ByteArrayOutputStream(in.length + 1);
            out.write(in, 0, i);
            switch (kind) {
                case INSERT -> {
                    out.write(value);
                    out.write(in, i, in.length - i);
                }
                case REPLACE -> {
                    out.write(value);
                    out.write(in, i + 1, in.length - i - 1);
                }
                case DELETE -> out.write(in, i + 1, in.length - i - 1);
            }
            return out.toByteArray();
        }
    }
}
