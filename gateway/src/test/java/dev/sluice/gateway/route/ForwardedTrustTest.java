package dev.sluice.gateway.route;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.access.SourceRanges;
import org.junit.jupiter.api.Test;

/** NGINX's real-IP module with {@code real_ip_recursive on}, as ingress-nginx configures it (SPEC §8). */
class ForwardedTrustTest {
    private static final byte[] LOOPBACK = {127, 0, 0, 1};

    private static ForwardedTrust trusting(String cidrs) {
        return new ForwardedTrust(true, false, "X-Forwarded-For", false, SourceRanges.parse(cidrs));
    }

    @Test
    void byDefaultNothingIsBelieved() {
        assertThat(ForwardedTrust.NONE.clientIp(LOOPBACK, "127.0.0.1", "1.2.3.4")).isEqualTo("127.0.0.1");
    }

    @Test
    void withTheDefaultCidrTheLeftMostAddressIsTheClient() {
        ForwardedTrust t = new ForwardedTrust(true, false, "X-Forwarded-For", false,
                ForwardedTrust.DEFAULT_TRUSTED_PROXIES);
        assertThat(t.clientIp(LOOPBACK, "127.0.0.1", "1.2.3.4")).isEqualTo("1.2.3.4");
        assertThat(t.clientIp(LOOPBACK, "127.0.0.1", "1.2.3.4, 10.0.0.1, 10.0.0.2")).isEqualTo("1.2.3.4");
        assertThat(t.clientIp(LOOPBACK, "127.0.0.1", null)).isEqualTo("127.0.0.1");
    }

    @Test
    void theFirstUntrustedAddressFromTheRightIsTheClient() {
        ForwardedTrust t = trusting("127.0.0.0/8, 10.0.0.0/8");
        assertThat(t.clientIp(LOOPBACK, "127.0.0.1", "1.2.3.4, 5.6.7.8, 10.0.0.2")).isEqualTo("5.6.7.8");
        assertThat(t.clientIp(LOOPBACK, "127.0.0.1", "10.0.0.3,10.0.0.2")).isEqualTo("10.0.0.3");
        assertThat(t.clientIp(LOOPBACK, "127.0.0.1", "2001:db8::1")).isEqualTo("2001:db8::1");
    }

    @Test
    void anUntrustedPeerOrABadListKeepsThePeer() {
        assertThat(trusting("10.0.0.0/8").clientIp(LOOPBACK, "127.0.0.1", "1.2.3.4")).isEqualTo("127.0.0.1");
        assertThat(trusting("127.0.0.0/8").clientIp(LOOPBACK, "127.0.0.1", "1.2.3.4, unknown"))
                .isEqualTo("127.0.0.1");
    }

    @Test
    void enableRealIpAloneAlsoTakesTheClientAddress() {
        ForwardedTrust t = new ForwardedTrust(false, true, "X-Forwarded-For", false,
                ForwardedTrust.DEFAULT_TRUSTED_PROXIES);
        assertThat(t.realIp()).isTrue();
        assertThat(t.clientIp(LOOPBACK, "127.0.0.1", "1.2.3.4")).isEqualTo("1.2.3.4");
    }
}
