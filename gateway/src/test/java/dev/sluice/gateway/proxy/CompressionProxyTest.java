package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;

import com.aayushatharva.brotli4j.decoder.BrotliInputStream;
import dev.sluice.gateway.route.CompressionPolicy;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTableHolder;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Responses are compressed by the client's {@code Accept-Encoding} when the table's
 * {@link CompressionPolicy} allows it, decoded here by the JDK (gzip) and brotli4j (brotli).
 */
class CompressionProxyTest {
    static final String ON = "on.example.com";
    static final String OFF = "off.example.com";
    static final String HELD = "held.example.com";
    static final CompressionPolicy GZIP_AND_BROTLI = new CompressionPolicy(true, 5, 256,
            CompressionPolicy.DEFAULT_GZIP_TYPES, true, 4, 20, CompressionPolicy.DEFAULT_BROTLI_TYPES);

    static TextBackend text;
    static TextBackend held;
    static final RouteTableHolder routes = new RouteTableHolder();
    static final RouteTableHolder offRoutes = new RouteTableHolder();
    static GatewayServer server;
    static GatewayServer offServer;

    @BeforeAll
    static void start() throws Exception {
        text = TextBackend.start("127.0.0.2");
        held = TextBackend.start("127.0.0.3");
        RouteOptions unlimited = RouteOptions.DEFAULTS.withMaxBodySize(0);
        routes.publish(table(
                host(ON, prefix("/", "default/text", backend("default-text-80", text.endpoint()), unlimited)),
                host(HELD, prefix("/", "default/held", backend("default-held-80", held.endpoint()), unlimited)))
                .withCompression(GZIP_AND_BROTLI));
        offRoutes.publish(table(
                host(OFF, prefix("/", "default/text", backend("default-text-80", text.endpoint()), unlimited))));
        server = GatewayServer.builder().routes(routes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).build();
        server.start();
        offServer = GatewayServer.builder().routes(offRoutes).bindAddress("127.0.0.1").httpPort(0).httpsPort(-1)
                .eventLoops(1).build();
        offServer.start();
    }

    @AfterAll
    static void stop() {
        held.release();
        server.close();
        offServer.close();
        text.close();
        held.close();
    }

    private static RawHttpClient.Response get(String uri, String acceptEncoding) {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            return c.exchange("GET " + uri + " HTTP/1.1\r\nHost: " + ON + "\r\n"
                    + (acceptEncoding != null ? "Accept-Encoding: " + acceptEncoding + "\r\n" : "") + "\r\n");
        }
    }

    static byte[] gunzip(byte[] body) {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] unbrotli(byte[] body) {
        try (InputStream in = new BrotliInputStream(new ByteArrayInputStream(body))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void assertUntouched(RawHttpClient.Response r, int length) {
        assertThat(r.header("Content-Encoding")).isNull();
        assertThat(r.header("Content-Length")).isEqualTo(Integer.toString(length));
        assertThat(r.body()).isEqualTo(TextBackend.text(length));
    }

    @Test
    void gzipWhenTheClientAcceptsIt() {
        RawHttpClient.Response r = get("/page?n=10000", "gzip, deflate");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(r.header("Vary")).isEqualTo("Accept-Encoding");
        assertThat(r.header("Content-Length")).isNull();
        assertThat(r.header("Transfer-Encoding")).isEqualTo("chunked");
        assertThat(r.body().length).isLessThan(10000);
        assertThat(gunzip(r.body())).isEqualTo(TextBackend.text(10000));
    }

    @Test
    void brotliWinsWhenBothAreAccepted() {
        RawHttpClient.Response r = get("/page?n=10000", "gzip, deflate, br");
        assertThat(r.header("Content-Encoding")).isEqualTo("br");
        assertThat(r.header("Vary")).isEqualTo("Accept-Encoding");
        assertThat(unbrotli(r.body())).isEqualTo(TextBackend.text(10000));
    }

    @Test
    void qualityZeroRefusesACoding() {
        RawHttpClient.Response r = get("/page?n=10000", "br;q=0, gzip;q=0.5");
        assertThat(r.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(gunzip(r.body())).isEqualTo(TextBackend.text(10000));

        RawHttpClient.Response none = get("/page?n=10000", "gzip;q=0, br; q=0.000");
        assertUntouched(none, 10000);
        assertThat(none.header("Vary")).isEqualTo("Accept-Encoding");
    }

    @Test
    void withoutAcceptEncodingTheBodyIsUntouchedButVaries() {
        RawHttpClient.Response r = get("/page?n=10000", null);
        assertUntouched(r, 10000);
        assertThat(r.header("Vary")).isEqualTo("Accept-Encoding");
    }

    @Test
    void anExistingVaryIsKeptAndExtended() {
        RawHttpClient.Response r = get("/page?n=10000&h=Vary:Origin", "gzip");
        assertThat(r.headers("Vary")).containsExactly("Origin", "Accept-Encoding");
        RawHttpClient.Response already = get("/page?n=10000&h=Vary:accept-encoding", "gzip");
        assertThat(already.headers("Vary")).containsExactly("accept-encoding");
    }

    @Test
    void onlyListedTypes() {
        RawHttpClient.Response binary = get("/page?n=10000&type=application/octet-stream", "gzip, br");
        assertUntouched(binary, 10000);
        assertThat(binary.header("Vary")).isNull();
        // text/html is always compressible, as in NGINX
        RawHttpClient.Response html = get("/page?n=10000&type=TEXT/HTML;charset=utf-8", "gzip");
        assertThat(html.header("Content-Encoding")).isEqualTo("gzip");
        RawHttpClient.Response json = get("/page?n=10000&type=application/json", "gzip");
        assertThat(gunzip(json.body())).isEqualTo(TextBackend.text(10000));
    }

    @Test
    void aKnownLengthBelowTheMinimumIsUntouched() {
        // gzip-min-length 256, brotli-min-length 20
        assertUntouched(get("/page?n=255", "gzip"), 255);
        assertThat(get("/page?n=256", "gzip").header("Content-Encoding")).isEqualTo("gzip");
        assertUntouched(get("/page?n=19", "br"), 19);
        RawHttpClient.Response br = get("/page?n=20", "br");
        assertThat(unbrotli(br.body())).isEqualTo(TextBackend.text(20));
        // an unknown length (chunked) is compressed, however short it turns out
        RawHttpClient.Response chunked = get("/page?n=10&chunked=1", "gzip");
        assertThat(chunked.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(gunzip(chunked.body())).isEqualTo(TextBackend.text(10));
    }

    @Test
    void anEncodedResponseIsNotEncodedAgain() {
        RawHttpClient.Response r = get("/page?n=1000&h=Content-Encoding:gzip", "gzip");
        assertThat(r.headers("Content-Encoding")).containsExactly("gzip");
        assertThat(r.header("Content-Length")).isEqualTo("1000");
        assertThat(r.header("Vary")).isNull();
        assertThat(r.body()).isEqualTo(TextBackend.text(1000));
    }

    @Test
    void noTransformIsHonoured() {
        RawHttpClient.Response r = get("/page?n=1000&h=Cache-Control:public,%20no-transform", "gzip, br");
        assertUntouched(r, 1000);
        assertThat(r.header("Vary")).isNull();
    }

    @Test
    void rangesAndBodylessAnswersAreUntouched() {
        RawHttpClient.Response partial = get("/page?n=1000&status=206&h=Content-Range:bytes%200-999/5000", "gzip");
        assertThat(partial.status()).isEqualTo(206);
        assertUntouched(partial, 1000);
        RawHttpClient.Response notModified = get("/page?n=1000&status=304", "gzip");
        assertThat(notModified.status()).isEqualTo(304);
        assertThat(notModified.header("Content-Encoding")).isNull();
        RawHttpClient.Response noContent = get("/page?status=204", "gzip");
        assertThat(noContent.status()).isEqualTo(204);
        assertThat(noContent.header("Content-Encoding")).isNull();
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response head = c.send("HEAD /page?n=1000 HTTP/1.1\r\nHost: " + ON
                    + "\r\nAccept-Encoding: gzip\r\n\r\n").readHead();
            assertThat(head.header("Content-Encoding")).isNull();
            assertThat(head.header("Content-Length")).isEqualTo("1000");
        }
    }

    @Test
    void errorPagesOfTheUpstreamAreCompressedLikeNginx() {
        RawHttpClient.Response notFound = get("/page?n=1000&status=404", "gzip");
        assertThat(notFound.header("Content-Encoding")).isEqualTo("gzip");
        RawHttpClient.Response serverError = get("/page?n=1000&status=500", "gzip");
        assertUntouched(serverError, 1000);
    }

    @Test
    void strongEtagBecomesWeakAndRangesAreNoLongerOffered() {
        RawHttpClient.Response r = get("/page?n=1000&h=ETag:%22v1%22&h=Accept-Ranges:bytes", "gzip");
        assertThat(r.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(r.header("ETag")).isEqualTo("W/\"v1\"");
        assertThat(r.header("Accept-Ranges")).isNull();
    }

    @Test
    void anHttp10ClientGetsTheIdentityBody() {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            RawHttpClient.Response r = c.exchange("GET /page?n=1000 HTTP/1.0\r\nHost: " + ON
                    + "\r\nAccept-Encoding: gzip\r\n\r\n");
            assertUntouched(r, 1000);
            assertThat(r.header("Vary")).isEqualTo("Accept-Encoding");
        }
    }

    @Test
    void offByDefault() {
        try (RawHttpClient c = RawHttpClient.connect(offServer.httpPort())) {
            RawHttpClient.Response r = c.exchange("GET /page?n=10000 HTTP/1.1\r\nHost: " + OFF
                    + "\r\nAccept-Encoding: gzip, br\r\n\r\n");
            assertUntouched(r, 10000);
            assertThat(r.header("Vary")).isNull();
        }
    }

    @Test
    void aLargeBodyStreamsCompressedAndTheConnectionIsReused() throws IOException {
        long n = 16L * 1024 * 1024;
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            for (String mode : new String[] {"", "&chunked=1"}) {
                RawHttpClient.Response r = c.exchange("GET /big?n=" + n + mode + " HTTP/1.1\r\nHost: " + ON
                        + "\r\nAccept-Encoding: gzip\r\n\r\n");
                assertThat(r.header("Content-Encoding")).isEqualTo("gzip");
                assertThat(r.body().length).isLessThan((int) (n / 20));
                CRC32 crc = new CRC32();
                long count = 0;
                try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(r.body()), 64 * 1024)) {
                    byte[] buf = new byte[64 * 1024];
                    int read;
                    while ((read = in.read(buf)) > 0) {
                        crc.update(buf, 0, read);
                        count += read;
                    }
                }
                assertThat(count).isEqualTo(n);
                assertThat(crc.getValue()).isEqualTo(TextBackend.textCrc(n));
            }
            RawHttpClient.Response br = c.exchange("GET /big?n=" + n + " HTTP/1.1\r\nHost: " + ON
                    + "\r\nAccept-Encoding: br\r\n\r\n");
            assertThat(br.header("Content-Encoding")).isEqualTo("br");
            CRC32 crc = new CRC32();
            crc.update(unbrotli(br.body()));
            assertThat(crc.getValue()).isEqualTo(TextBackend.textCrc(n));
        }
    }

    /**
     * Nothing is aggregated: the first compressed chunk reaches the client and decodes while the
     * upstream still holds back the rest of the body.
     */
    @Test
    void compressedBytesFlowBeforeTheUpstreamFinishes() throws Exception {
        try (RawHttpClient c = RawHttpClient.connect(server.httpPort())) {
            c.send("GET /held?n=100000&hold=1 HTTP/1.1\r\nHost: " + HELD + "\r\nAccept-Encoding: gzip\r\n\r\n");
            InputStream in = c.socket().getInputStream();
            String headLine;
            boolean chunked = false;
            while (!(headLine = line(in)).isEmpty()) {
                if (headLine.equalsIgnoreCase("Transfer-Encoding: chunked")) {
                    chunked = true;
                }
                assertThat(headLine).doesNotStartWithIgnoringCase("Content-Length");
            }
            assertThat(chunked).isTrue();
            // gzip: a 10-byte header, then raw deflate blocks, each chunk ends with a sync flush
            ByteArrayOutputStream compressed = new ByteArrayOutputStream();
            Inflater inflater = new Inflater(true);
            byte[] plain = new byte[200_000];
            int decoded = 0;
            while (decoded < TextBackend.HOLD_AFTER) {
                int size = Integer.parseInt(line(in).trim(), 16);
                assertThat(size).isPositive();
                compressed.write(in.readNBytes(size));
                line(in);
                byte[] all = compressed.toByteArray();
                if (all.length > 10) {
                    inflater.reset();
                    inflater.setInput(all, 10, all.length - 10);
                    decoded = inflater.inflate(plain);
                }
            }
            assertThat(java.util.Arrays.copyOf(plain, decoded)).isEqualTo(TextBackend.text(TextBackend.HOLD_AFTER));
            held.release();
            // the rest follows on the same response
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.write(compressed.toByteArray());
            int size;
            while ((size = Integer.parseInt(line(in).trim(), 16)) > 0) {
                body.write(in.readNBytes(size));
                line(in);
            }
            line(in);
            assertThat(gunzip(body.toByteArray())).isEqualTo(TextBackend.text(100000));
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int ch;
        while ((ch = in.read()) != -1 && ch != '\n') {
            if (ch != '\r') {
                b.append((char) ch);
            }
        }
        return b.toString();
    }

    /** An HTTP/2 client (TLS, ALPN h2) gets the compressed body in DATA frames, without a length. */
    @Test
    void http2ClientsGetCompressedResponsesToo() throws Exception {
        RouteTableHolder h2Routes = new RouteTableHolder();
        h2Routes.publish(TestRoutes.tableWithCatchAll(host("", prefix("/", "default/text",
                backend("default-text-80", text.endpoint())))).withCompression(GZIP_AND_BROTLI));
        GatewayServer h2Server = GatewayServer.builder().routes(h2Routes).bindAddress("127.0.0.1").httpPort(0)
                .httpsPort(0).eventLoops(1).build();
        h2Server.start();
        try {
            java.net.http.HttpClient client = Http2Clients.trustingAll(java.net.http.HttpClient.Version.HTTP_2);
            java.net.http.HttpResponse<byte[]> r = client.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("https://127.0.0.1:" + h2Server.httpsPort() + "/page?n=100000"))
                    .header("Accept-Encoding", "gzip").build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_2);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("content-encoding")).hasValue("gzip");
            assertThat(r.headers().firstValue("content-length")).isEmpty();
            assertThat(r.headers().firstValue("transfer-encoding")).isEmpty();
            assertThat(gunzip(r.body())).isEqualTo(TextBackend.text(100000));
        } finally {
            h2Server.close();
        }
    }

    @Test
    void typeListsMatchLikeNginx() {
        CompressionPolicy p = new CompressionPolicy(true, 1, 0, Set.of("application/json"), false, 4, 0, Set.of());
        assertThat(p.gzipApplies("application/json; charset=utf-8", -1)).isTrue();
        assertThat(p.gzipApplies("Application/JSON", 10)).isTrue();
        assertThat(p.gzipApplies("text/html", 10)).isTrue();
        assertThat(p.gzipApplies("text/css", 10)).isFalse();
        assertThat(p.gzipApplies(null, 10)).isFalse();
        CompressionPolicy any = new CompressionPolicy(true, 1, 0, Set.of("*"), false, 4, 0, Set.of());
        assertThat(any.gzipApplies("application/octet-stream", 10)).isTrue();
    }
}
