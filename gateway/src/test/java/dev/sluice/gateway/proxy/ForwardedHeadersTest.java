package dev.sluice.gateway.proxy;

import dev.sluice.gateway.request.Endpoint;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

/** The header rewriting of SPEC §8 as a pure function: client headers in, upstream headers out. */
class ForwardedHeadersTest {

    private static HttpHeaders client(String... nameValues) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < nameValues.length; i += 2) {
            h.add(nameValues[i], nameValues[i + 1]);
        }
        return h;
    }

    private static HttpHeaders upstream(HttpHeaders client, boolean https, String prefix) {
        return ForwardedHeaders.toUpstream(client, "10.0.0.7", https, prefix, "rid", Endpoint.of("10.1.1.1", 8080));
    }

    @Test
    void plainHttpRequestGetsTheNginxSetOfHeaders() {
        HttpHeaders out = upstream(client("Host", "Shop.Example.com:8080", "Accept", "*/*"), false, null);

        assertThat(out.get("Host")).isEqualTo("Shop.Example.com:8080");
        assertThat(out.get("X-Request-ID")).isEqualTo("rid");
        assertThat(out.get("X-Real-IP")).isEqualTo("10.0.0.7");
        assertThat(out.getAll("X-Forwarded-For")).containsExactly("10.0.0.7");
        assertThat(out.get("X-Forwarded-Host")).isEqualTo("Shop.Example.com:8080");
        assertThat(out.get("X-Forwarded-Port")).isEqualTo("80");
        assertThat(out.get("X-Forwarded-Proto")).isEqualTo("http");
        assertThat(out.get("X-Forwarded-Scheme")).isEqualTo("http");
        assertThat(out.get("X-Scheme")).isEqualTo("http");
        assertThat(out.get("Accept")).isEqualTo("*/*");
        assertThat(out.contains("X-Original-Forwarded-For")).isFalse();
        assertThat(out.contains("X-Original-Forwarded-Host")).isFalse();
        assertThat(out.contains("X-Forwarded-Prefix")).isFalse();
    }

    @Test
    void httpsListenerReportsSchemeHttpsAndPort443() {
        HttpHeaders out = upstream(client("Host", "a"), true, null);

        assertThat(out.get("X-Forwarded-Proto")).isEqualTo("https");
        assertThat(out.get("X-Forwarded-Scheme")).isEqualTo("https");
        assertThat(out.get("X-Scheme")).isEqualTo("https");
        assertThat(out.get("X-Forwarded-Port")).isEqualTo("443");
    }

    @Test
    void incomingForwardedValuesAreReplacedAndAllTheirValuesKeptAsOriginals() {
        HttpHeaders out = upstream(client(
                "Host", "forwarded-headers",
                "X-Forwarded-For", "1.2.3.4",
                "X-Forwarded-For", "5.6.7.8, 9.9.9.9",
                "X-Forwarded-Host", "myhost",
                "X-Forwarded-Port", "1234",
                "X-Forwarded-Proto", "myproto",
                "X-Real-IP", "6.6.6.6",
                "X-Original-Forwarded-For", "spoofed"), false, null);

        assertThat(out.getAll("X-Forwarded-For")).containsExactly("10.0.0.7");
        assertThat(out.getAll("X-Original-Forwarded-For")).containsExactly("1.2.3.4, 5.6.7.8, 9.9.9.9");
        assertThat(out.getAll("X-Forwarded-Host")).containsExactly("forwarded-headers");
        assertThat(out.getAll("X-Original-Forwarded-Host")).containsExactly("myhost");
        assertThat(out.getAll("X-Forwarded-Port")).containsExactly("80");
        assertThat(out.getAll("X-Forwarded-Proto")).containsExactly("http");
        assertThat(out.getAll("X-Real-IP")).containsExactly("10.0.0.7");
    }

    @Test
    void forwardedPrefixIsSetOnlyWithARewriteOtherwiseTheClientsPasses() {
        assertThat(upstream(client("Host", "a", "X-Forwarded-Prefix", "/client"), false, "/app")
                .getAll("X-Forwarded-Prefix")).containsExactly("/app");
        assertThat(upstream(client("Host", "a", "X-Forwarded-Prefix", "/client"), false, null)
                .getAll("X-Forwarded-Prefix")).containsExactly("/client");
    }

    @Test
    void hopByHopExpectProxyAndUnderscoreHeadersAreDropped() {
        HttpHeaders out = upstream(client(
                "Host", "a",
                "Connection", "keep-alive, X-Private",
                "X-Private", "secret",
                "Keep-Alive", "timeout=5",
                "Proxy-Connection", "keep-alive",
                "TE", "trailers",
                "Trailer", "X-Checksum",
                "Upgrade", "h2c",
                "Transfer-Encoding", "chunked",
                "Expect", "100-continue",
                "Proxy", "http://evil:3128",
                "X_Custom_Header", "1",
                "Content-Length", "12",
                "Cookie", "a=b"), false, null);

        assertThat(out.names()).doesNotContain("Connection", "X-Private", "Keep-Alive", "Proxy-Connection", "TE",
                "Trailer", "Upgrade", "Transfer-Encoding", "Expect", "Proxy", "X_Custom_Header");
        assertThat(out.get("Content-Length")).isEqualTo("12");
        assertThat(out.get("Cookie")).isEqualTo("a=b");
    }

    @Test
    void missingHostUsesTheFallbackAndSendsNoForwardedHost() {
        HttpHeaders out = upstream(client("Accept", "*/*"), false, null);

        assertThat(out.get("Host")).isEqualTo("10.1.1.1:8080");
        assertThat(out.contains("X-Forwarded-Host")).isFalse();
    }

    @Test
    void requestIdIsTheClientsOrA32HexDigitId() {
        assertThat(ForwardedHeaders.requestId(client("X-Request-ID", "abc"))).isEqualTo("abc");
        assertThat(ForwardedHeaders.requestId(client("X-Request-ID", ""))).matches("[0-9a-f]{32}");
        assertThat(ForwardedHeaders.requestId(client())).matches("[0-9a-f]{32}");
        assertThat(ForwardedHeaders.newRequestId().toString()).isNotEqualTo(ForwardedHeaders.newRequestId().toString());
    }

    @Test
    void responseLosesServerAndHopByHopHeadersOnly() {
        HttpHeaders out = ForwardedHeaders.toClient(client(
                "Server", "gunicorn",
                "Connection", "keep-alive, X-Internal",
                "X-Internal", "1",
                "Keep-Alive", "timeout=5",
                "Transfer-Encoding", "chunked",
                "Content-Type", "text/plain",
                "Set-Cookie", "a=1",
                "Set-Cookie", "b=2",
                "X_Upstream_Underscore", "kept"));

        assertThat(out.names()).doesNotContain("Server", "Connection", "X-Internal", "Keep-Alive", "Transfer-Encoding");
        assertThat(out.get("Content-Type")).isEqualTo("text/plain");
        assertThat(out.getAll("Set-Cookie")).containsExactly("a=1", "b=2");
        assertThat(out.get("X_Upstream_Underscore")).isEqualTo("kept");
    }
}
