package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The auth subrequest headers of ingress-nginx's {@code location = /_external-auth-…} block. */
class ExternalAuthHeadersTest {
    private static final URI AUTH = URI.create("http://auth.example.svc:8080/verify?x=1");

    private static HttpHeaders client(String... nameValues) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < nameValues.length; i += 2) {
            h.add(nameValues[i], nameValues[i + 1]);
        }
        return h;
    }

    private static HttpHeaders build(HttpHeaders client) {
        return ExternalAuthHeaders.subrequest(client, "https", "Shop.Example.com:8443", "/cart?id=7&q=a%20b",
                "POST", "10.0.0.7", "rid-1", AUTH, null, Map.of());
    }

    @Test
    void setsTheTemplatesHeaders() {
        HttpHeaders out = build(client("Host", "Shop.Example.com:8443", "Accept", "*/*"));

        assertThat(out.getAll("Host")).containsExactly("auth.example.svc"); // url.Hostname(): no port
        assertThat(out.getAll("X-Original-URL")).containsExactly("https://Shop.Example.com:8443/cart?id=7&q=a%20b");
        assertThat(out.getAll("X-Original-Method")).containsExactly("POST");
        assertThat(out.getAll("X-Sent-From")).containsExactly("nginx-ingress-controller");
        assertThat(out.getAll("X-Real-IP")).containsExactly("10.0.0.7");
        assertThat(out.getAll("X-Forwarded-For")).containsExactly("10.0.0.7");
        assertThat(out.getAll("X-Request-ID")).containsExactly("rid-1");
        assertThat(out.getAll("X-Auth-Request-Redirect")).containsExactly("/cart?id=7&q=a%20b");
        assertThat(out.getAll("Accept")).containsExactly("*/*");
        // only with auth-method
        assertThat(out.contains("X-Original-URI")).isFalse();
        assertThat(out.contains("X-Scheme")).isFalse();
        // the template clears X-Forwarded-Proto; X-Forwarded-Host is the client's Host
        assertThat(out.contains("X-Forwarded-Proto")).isFalse();
        assertThat(out.getAll("X-Forwarded-Host")).containsExactly("Shop.Example.com:8443");
    }

    @Test
    void clientHeadersPassExceptBodyHopByHopAndReplacedOnes() {
        HttpHeaders out = build(client(
                "Host", "Shop.Example.com:8443",
                "Cookie", "a=1",
                "Cookie", "b=2",
                "Authorization", "Bearer t",
                "X-Forwarded-Host", "client-host",
                "X-Forwarded-Port", "1234",
                "Content-Length", "12",
                "Content-Type", "application/json",
                "Transfer-Encoding", "chunked",
                "Expect", "100-continue",
                "Connection", "keep-alive, X-Secret",
                "X-Secret", "s",
                "Keep-Alive", "timeout=5",
                "Proxy-Connection", "keep-alive",
                "TE", "trailers",
                "Trailer", "X-T",
                "Upgrade", "websocket",
                "Proxy", "http://evil",
                "X-Forwarded-Proto", "myproto",
                "X-Forwarded-For", "1.2.3.4",
                "X-Real-IP", "6.6.6.6",
                "X-Request-ID", "client-id",
                "X-Original-URL", "http://spoof/",
                "X-Original-Method", "DELETE",
                "X-Sent-From", "me",
                "X-Auth-Request-Redirect", "/spoof",
                "X-Original-URI", "/client-uri",
                "X-Scheme", "client-scheme",
                "Under_Score", "dropped"));

        assertThat(out.getAll("Cookie")).containsExactly("a=1", "b=2");
        assertThat(out.getAll("Authorization")).containsExactly("Bearer t");
        // never the client's own X-Forwarded-Host (NGINX passes it; auth services trust it for redirects)
        assertThat(out.getAll("X-Forwarded-Host")).containsExactly("Shop.Example.com:8443");
        assertThat(out.getAll("X-Forwarded-Port")).containsExactly("1234");
        assertThat(out.getAll("Content-Type")).containsExactly("application/json");
        // without auth-method the template does not touch these, so the client's pass
        assertThat(out.getAll("X-Original-URI")).containsExactly("/client-uri");
        assertThat(out.getAll("X-Scheme")).containsExactly("client-scheme");
        for (String gone : new String[] {"Content-Length", "Transfer-Encoding", "Expect", "Connection", "X-Secret",
                "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade", "Proxy", "X-Forwarded-Proto",
                "Under_Score"}) {
            assertThat(out.contains(gone)).as(gone).isFalse();
        }
        assertThat(out.getAll("Host")).containsExactly("auth.example.svc");
        assertThat(out.getAll("X-Forwarded-For")).containsExactly("10.0.0.7");
        assertThat(out.getAll("X-Real-IP")).containsExactly("10.0.0.7");
        assertThat(out.getAll("X-Request-ID")).containsExactly("rid-1");
        assertThat(out.getAll("X-Original-URL")).containsExactly("https://Shop.Example.com:8443/cart?id=7&q=a%20b");
        assertThat(out.getAll("X-Original-Method")).containsExactly("POST");
        assertThat(out.getAll("X-Sent-From")).containsExactly("nginx-ingress-controller");
        assertThat(out.getAll("X-Auth-Request-Redirect")).containsExactly("/cart?id=7&q=a%20b");
    }

    @Test
    void authMethodAddsOriginalUriAndScheme() {
        HttpHeaders out = ExternalAuthHeaders.subrequest(client("Host", "h", "X-Original-URI", "/spoof",
                "X-Scheme", "spoof"), "http", "h", "/p?a=b", "GET", "10.0.0.7", "rid", AUTH, "POST", null, Map.of());

        assertThat(out.getAll("X-Original-URI")).containsExactly("/p?a=b");
        assertThat(out.getAll("X-Scheme")).containsExactly("http");
        assertThat(out.getAll("X-Original-URL")).containsExactly("http://h/p?a=b");
    }

    @Test
    void authRequestRedirectReplacesTheRequestUri() {
        HttpHeaders out = ExternalAuthHeaders.subrequest(client("Host", "h"), "http", "h", "/p", "GET", "10.0.0.7",
                "rid", AUTH, "https://login.example.com/back", Map.of());

        assertThat(out.getAll("X-Auth-Request-Redirect")).containsExactly("https://login.example.com/back");
    }

    @Test
    void proxySetHeadersComeLastAndReplace() {
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("X-Tenant", "blue");
        extra.put("X-Sent-From", "sluice");
        extra.put("Accept", "");
        HttpHeaders out = ExternalAuthHeaders.subrequest(client("Host", "h", "Accept", "*/*", "X-Tenant", "client"),
                "http", "h", "/", "GET", "10.0.0.7", "rid", AUTH, null, extra);

        assertThat(out.getAll("X-Tenant")).containsExactly("blue");
        assertThat(out.getAll("X-Sent-From")).containsExactly("sluice");
        assertThat(out.contains("Accept")).isFalse(); // proxy_set_header Accept "" clears it
    }

    @Test
    void missingClientHostGivesAnEmptyHttpHostAndDefaultPortsAreNotSent() {
        HttpHeaders out = ExternalAuthHeaders.subrequest(client(), "http", null, "/x", "GET", "10.0.0.7", "rid",
                URI.create("https://auth.example.com/check"), null, null);

        assertThat(out.get("X-Original-URL")).isEqualTo("http:///x"); // $http_host is empty
        assertThat(out.get("Host")).isEqualTo("auth.example.com");
    }

    @Test
    void clientHeadersAreNotModified() {
        HttpHeaders in = client("Host", "h", "Connection", "close", "Content-Length", "3");
        build(in);
        assertThat(in.size()).isEqualTo(3);
    }
}
