package dev.sluice.gateway.proxy;

import dev.sluice.gateway.request.Endpoint;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.route.ForwardedTrust;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

/**
 * The upstream headers under the global ConfigMap's forwarding keys: ingress-nginx's e2e
 * {@code settings/forwarded_headers.go} and {@code enable_real_ip.go} cases (SPEC §8).
 */
class ForwardedHeadersTrustTest {
    private static final Endpoint FALLBACK = Endpoint.of("10.1.1.1", 8080);

    private static final ForwardedTrust USE_FORWARDED = new ForwardedTrust(true, false, "X-Forwarded-For", false,
            ForwardedTrust.DEFAULT_TRUSTED_PROXIES);

    private static HttpHeaders client() {
        return new DefaultHttpHeaders().add("Host", "forwarded-headers").add("X-Forwarded-Port", "1234")
                .add("X-Forwarded-Proto", "myproto").add("X-Forwarded-For", "1.2.3.4")
                .add("X-Forwarded-Host", "myhost");
    }

    @Test
    void useForwardedHeadersTrustsHostProtoPortAndTheClientAddress() {
        HttpHeaders client = client();
        String clientIp = USE_FORWARDED.clientIp(new byte[] {127, 0, 0, 1}, "127.0.0.1",
                client.get("X-Forwarded-For"));
        HttpHeaders out = ForwardedHeaders.toUpstream(client, clientIp, "127.0.0.1", false, USE_FORWARDED, null,
                "id", FALLBACK);
        assertThat(out.get("Host")).isEqualTo("myhost");
        assertThat(out.get("X-Forwarded-Host")).isEqualTo("myhost");
        assertThat(out.get("X-Forwarded-Proto")).isEqualTo("myproto");
        assertThat(out.get("X-Forwarded-Scheme")).isEqualTo("myproto");
        assertThat(out.get("X-Forwarded-Port")).isEqualTo("1234");
        assertThat(out.get("X-Forwarded-For")).isEqualTo("1.2.3.4");
        assertThat(out.get("X-Real-IP")).isEqualTo("1.2.3.4");
        assertThat(ForwardedHeaders.scheme(client, false, USE_FORWARDED)).isEqualTo("myproto");
    }

    @Test
    void onlyTheFirstForwardedHostCounts() {
        HttpHeaders client = client().set("X-Forwarded-Host", "myhost.com, another.host,example.net");
        HttpHeaders out = ForwardedHeaders.toUpstream(client, "1.2.3.4", "127.0.0.1", false, USE_FORWARDED, null,
                "id", FALLBACK);
        assertThat(out.get("Host")).isEqualTo("myhost.com");
    }

    @Test
    void withoutTrustTheClientValuesAreReplaced() {
        HttpHeaders out = ForwardedHeaders.toUpstream(client(), "127.0.0.1", "127.0.0.1", false, ForwardedTrust.NONE,
                null, "id", FALLBACK);
        assertThat(out.get("Host")).isEqualTo("forwarded-headers");
        assertThat(out.get("X-Forwarded-Port")).isEqualTo("80");
        assertThat(out.get("X-Forwarded-Proto")).isEqualTo("http");
        assertThat(out.get("X-Forwarded-For")).isEqualTo("127.0.0.1");
        assertThat(out.get("X-Original-Forwarded-For")).isEqualTo("1.2.3.4");
        assertThat(out.get("X-Original-Forwarded-Host")).isEqualTo("myhost");
        assertThat(ForwardedHeaders.scheme(client(), false, ForwardedTrust.NONE)).isEqualTo("http");
    }

    @Test
    void enableRealIpTrustsOnlyTheAddress() {
        ForwardedTrust realIp = new ForwardedTrust(false, true, "X-Forwarded-For", false,
                ForwardedTrust.DEFAULT_TRUSTED_PROXIES);
        HttpHeaders out = ForwardedHeaders.toUpstream(client(), "1.2.3.4", "127.0.0.1", false, realIp, null, "id",
                FALLBACK);
        assertThat(out.get("X-Forwarded-For")).isEqualTo("1.2.3.4");
        assertThat(out.get("Host")).isEqualTo("forwarded-headers");
        assertThat(out.get("X-Forwarded-Proto")).isEqualTo("http");
        assertThat(out.get("X-Forwarded-Port")).isEqualTo("80");
    }

    @Test
    void computeFullForwardedForAppendsThePeer() {
        ForwardedTrust full = new ForwardedTrust(true, false, "X-Forwarded-For", true,
                ForwardedTrust.DEFAULT_TRUSTED_PROXIES);
        HttpHeaders out = ForwardedHeaders.toUpstream(client(), "1.2.3.4", "127.0.0.1", false, full, null, "id",
                FALLBACK);
        assertThat(out.get("X-Forwarded-For")).isEqualTo("1.2.3.4, 127.0.0.1");
        HttpHeaders none = ForwardedHeaders.toUpstream(new DefaultHttpHeaders().add("Host", "h"), "127.0.0.1",
                "127.0.0.1", false, full, null, "id", FALLBACK);
        assertThat(none.get("X-Forwarded-For")).isEqualTo("127.0.0.1");
    }
}
