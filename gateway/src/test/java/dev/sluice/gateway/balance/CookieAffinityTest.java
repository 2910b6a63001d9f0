package dev.sluice.gateway.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.request.RequestView;
import dev.sluice.gateway.request.SimpleRequestView;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** SPEC §6.3: cookie session affinity. */
class CookieAffinityTest {
    static final String BACKEND = "default-web-80";
    /** md5(md5("default-web-80") + "default-web-80"), computed independently. */
    static final String BACKEND_KEY = "6cde5721ec2c7e2bce07cff7d0e4ac37";
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-03-01T10:00:00Z"), ZoneOffset.UTC);
    static final List<Endpoint> EPS = ConsistentHashTest.endpoints(5);

    static CookieAffinity affinity(AffinityConfig config) {
        return affinity(EPS, config);
    }

    static CookieAffinity affinity(List<Endpoint> eps, AffinityConfig config) {
        SplittableRandom rnd = new SplittableRandom(5);
        Supplier<SplittableRandom> s = () -> rnd;
        return CookieAffinity.of(BACKEND, eps, config, CLOCK, s);
    }

    static SimpleRequestView.Builder req() {
        return SimpleRequestView.builder().requestUri("/shop/cart");
    }

    /** The cookie value of a Set-Cookie header. */
    static String value(String setCookie) {
        String pair = setCookie.substring(0, setCookie.indexOf(';'));
        return pair.substring(pair.indexOf('=') + 1);
    }

    static String attributes(String setCookie) {
        return setCookie.substring(setCookie.indexOf(';'));
    }

    @Test
    void firstRequestGetsACookieWithDefaultAttributes() {
        Pick p = affinity(AffinityConfig.defaults()).pick(req().build(), Set.of(), "/shop");
        assertThat(p.endpoint()).isIn(EPS);
        assertThat(p.setCookie()).startsWith("INGRESSCOOKIE=");
        assertThat(value(p.setCookie())).matches("[0-9a-f]{16}\\|" + BACKEND_KEY);
        assertThat(attributes(p.setCookie())).isEqualTo("; Path=/shop; HttpOnly");
    }

    @Test
    void cookieCarriesEveryConfiguredAttributeInIngressNginxOrder() {
        AffinityConfig c = AffinityConfig.builder()
                .cookieName("route")
                .expiresSeconds(3600L)
                .maxAgeSeconds(1800L)
                .domain("example.com")
                .path("/forced")
                .sameSite(AffinityConfig.SameSite.LAX)
                .partitioned(true)
                .build();
        Pick p = affinity(c).pick(req().build(), Set.of(), "/shop");
        assertThat(p.setCookie()).startsWith("route=");
        assertThat(attributes(p.setCookie())).isEqualTo(
                "; Expires=Sun, 01 Mar 2026 11:00:00 GMT; Max-Age=1800; Domain=example.com; Path=/forced"
                        + "; HttpOnly; SameSite=Lax; Partitioned");
    }

    @Test
    void secureOnHttpsOrWhenForced() {
        CookieAffinity plain = affinity(AffinityConfig.defaults());
        assertThat(plain.pick(req().https(true).build(), Set.of(), "/").setCookie()).contains("; Secure; HttpOnly");
        assertThat(plain.pick(req().https(false).build(), Set.of(), "/").setCookie()).doesNotContain("Secure");
        CookieAffinity forced = affinity(AffinityConfig.builder().secure(true).build());
        assertThat(forced.pick(req().build(), Set.of(), "/").setCookie()).contains("; Secure; HttpOnly");
    }

    @Test
    void conditionalSameSiteNoneIsDroppedForIncompatibleAgents() {
        CookieAffinity a = affinity(AffinityConfig.builder()
                .sameSite(AffinityConfig.SameSite.NONE).conditionalSameSiteNone(true).build());
        String chrome51 = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/51.0.2704.103 Safari/537.36";
        String chrome120 = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0.0.0 Safari/537.36";
        String ios12 = "Mozilla/5.0 (iPhone; CPU iPhone OS 12_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1";
        String mojave = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 Version/12.1 Safari/605.1.15";
        assertThat(a.pick(req().header("User-Agent", chrome51).build(), Set.of(), "/").setCookie()).doesNotContain("SameSite");
        assertThat(a.pick(req().header("User-Agent", ios12).build(), Set.of(), "/").setCookie()).doesNotContain("SameSite");
        assertThat(a.pick(req().header("User-Agent", mojave).build(), Set.of(), "/").setCookie()).doesNotContain("SameSite");
        assertThat(a.pick(req().header("User-Agent", chrome120).build(), Set.of(), "/").setCookie()).endsWith("; SameSite=None");
        CookieAffinity unconditional = affinity(AffinityConfig.builder().sameSite(AffinityConfig.SameSite.NONE).build());
        assertThat(unconditional.pick(req().header("User-Agent", chrome51).build(), Set.of(), "/").setCookie())
                .endsWith("; SameSite=None");
    }

    @Test
    void secondRequestWithTheCookieSticksWithoutSetCookie() {
        for (AffinityConfig.Mode mode : AffinityConfig.Mode.values()) {
            CookieAffinity a = affinity(AffinityConfig.builder().mode(mode).build());
            Pick first = a.pick(req().build(), Set.of(), "/shop");
            RequestView again = req().cookie("INGRESSCOOKIE", value(first.setCookie())).build();
            assertThat(a.isAffinitized(again)).isTrue();
            for (int i = 0; i < 100; i++) {
                Pick p = a.pick(again, Set.of(), "/shop");
                assertThat(p.endpoint()).isEqualTo(first.endpoint());
                assertThat(p.setCookie()).isNull();
            }
        }
    }

    @Test
    void newSessionsSpreadOverTheEndpoints() {
        for (AffinityConfig.Mode mode : AffinityConfig.Mode.values()) {
            CookieAffinity a = affinity(AffinityConfig.builder().mode(mode).build());
            Set<Endpoint> seen = new HashSet<>();
            for (int i = 0; i < 200; i++) {
                seen.add(a.pick(req().build(), Set.of(), "/").endpoint());
            }
            assertThat(seen).as(mode.name()).containsExactlyInAnyOrderElementsOf(EPS);
        }
    }

    @Test
    void locationWithoutAffinitySetsNoCookieButStillSticks() {
        CookieAffinity a = affinity(AffinityConfig.defaults());
        Pick first = a.pick(req().build(), Set.of(), null);
        assertThat(first.endpoint()).isNotNull();
        assertThat(first.setCookie()).isNull();
        Pick sticky = a.pick(req().build(), Set.of(), "/");
        RequestView withCookie = req().cookie("INGRESSCOOKIE", value(sticky.setCookie())).build();
        assertThat(a.pick(withCookie, Set.of(), null).endpoint()).isEqualTo(sticky.endpoint());
        assertThat(a.pick(withCookie, Set.of())).isEqualTo(sticky.endpoint());
    }

    @Test
    void persistentKeyNamesTheEndpoint() {
        CookieAffinity a = affinity(AffinityConfig.builder().mode(AffinityConfig.Mode.PERSISTENT).build());
        // md5("default-web-80" + "127.0.0.2:8080"), computed independently
        RequestView r = req().cookie("INGRESSCOOKIE", "19f9660b543bc436326df159ef7f0e26|" + BACKEND_KEY).build();
        Pick p = a.pick(r, Set.of(), "/");
        assertThat(p.endpoint()).isEqualTo(Endpoint.of("127.0.0.2", 8080));
        assertThat(p.setCookie()).isNull();
    }

    @Test
    void persistentCookieForARemovedEndpointGetsANewEndpointAndCookie() {
        AffinityConfig c = AffinityConfig.builder().mode(AffinityConfig.Mode.PERSISTENT).build();
        CookieAffinity before = affinity(c);
        Pick first = before.pick(req().build(), Set.of(), "/shop");
        List<Endpoint> remaining = new ArrayList<>(EPS);
        remaining.remove(first.endpoint());
        CookieAffinity after = affinity(remaining, c);
        RequestView withOldCookie = req().cookie("INGRESSCOOKIE", value(first.setCookie())).build();
        Pick moved = after.pick(withOldCookie, Set.of(), "/shop");
        assertThat(moved.endpoint()).isIn(remaining);
        assertThat(moved.setCookie()).isNotNull();
        assertThat(value(moved.setCookie())).isNotEqualTo(value(first.setCookie()));
        // and the new cookie sticks
        RequestView withNewCookie = req().cookie("INGRESSCOOKIE", value(moved.setCookie())).build();
        assertThat(after.pick(withNewCookie, Set.of(), "/shop")).isEqualTo(Pick.of(moved.endpoint()));
    }

    @Test
    void balancedCookieForARemovedEndpointMovesWithoutNewCookie() {
        AffinityConfig c = AffinityConfig.defaults();
        CookieAffinity before = affinity(c);
        Pick first = before.pick(req().build(), Set.of(), "/shop");
        List<Endpoint> remaining = new ArrayList<>(EPS);
        remaining.remove(first.endpoint());
        CookieAffinity after = affinity(remaining, c);
        RequestView withOldCookie = req().cookie("INGRESSCOOKIE", value(first.setCookie())).build();
        Pick moved = after.pick(withOldCookie, Set.of(), "/shop");
        assertThat(moved.endpoint()).isIn(remaining);
        assertThat(moved.setCookie()).isNull();
        assertThat(after.pick(withOldCookie, Set.of(), "/shop").endpoint()).isEqualTo(moved.endpoint());
    }

    @Test
    void balancedSessionsOfSurvivingEndpointsDoNotMove() {
        AffinityConfig c = AffinityConfig.defaults();
        CookieAffinity before = affinity(c);
        List<Endpoint> remaining = new ArrayList<>(EPS);
        Endpoint removed = remaining.remove(0);
        CookieAffinity after = affinity(remaining, c);
        for (int i = 0; i < 200; i++) {
            Pick p = before.pick(req().build(), Set.of(), "/");
            RequestView r = req().cookie("INGRESSCOOKIE", value(p.setCookie())).build();
            if (!p.endpoint().equals(removed)) {
                assertThat(after.pick(r, Set.of(), "/").endpoint()).isEqualTo(p.endpoint());
            }
        }
    }

    @Test
    void emptyOrForeignCookieIsNotAffinity() {
        CookieAffinity a = affinity(AffinityConfig.defaults());
        assertThat(a.isAffinitized(req().build())).isFalse();
        assertThat(a.isAffinitized(req().cookie("INGRESSCOOKIE", "abc").build())).isFalse();
        assertThat(a.isAffinitized(req().cookie("INGRESSCOOKIE", "abc|0123").build())).isFalse();
        assertThat(a.isAffinitized(req().cookie("INGRESSCOOKIE", "abc|" + BACKEND_KEY + "x").build())).isFalse();
        assertThat(a.isAffinitized(req().cookie("OTHER", "abc|" + BACKEND_KEY).build())).isFalse();
        assertThat(a.isAffinitized(req().cookie("INGRESSCOOKIE", "abc|" + BACKEND_KEY).build())).isTrue();
        // an empty key is no session: a new endpoint and cookie
        assertThat(a.pick(req().cookie("INGRESSCOOKIE", "|" + BACKEND_KEY).build(), Set.of(), "/").setCookie()).isNotNull();
    }

    @Test
    void retryWithoutChangeOnFailureStaysOnTheStickyEndpoint() {
        CookieAffinity a = affinity(AffinityConfig.defaults());
        Pick first = a.pick(req().build(), Set.of(), "/");
        RequestView r = req().cookie("INGRESSCOOKIE", value(first.setCookie())).build();
        assertThat(a.pick(r, Set.of(first.endpoint()), "/")).isEqualTo(Pick.of(first.endpoint()));
    }

    @Test
    void retryWithChangeOnFailurePicksAnotherEndpointAndReissuesTheCookie() {
        for (AffinityConfig.Mode mode : AffinityConfig.Mode.values()) {
            CookieAffinity a = affinity(AffinityConfig.builder().mode(mode).changeOnFailure(true).build());
            Pick first = a.pick(req().build(), Set.of(), "/");
            RequestView r = req().cookie("INGRESSCOOKIE", value(first.setCookie())).build();
            assertThat(a.pick(r, Set.of(), "/")).isEqualTo(Pick.of(first.endpoint()));
            Pick retry = a.pick(r, Set.of(first.endpoint()), "/");
            assertThat(retry.endpoint()).as(mode.name()).isNotEqualTo(first.endpoint());
            assertThat(retry.setCookie()).isNotNull();
            RequestView next = req().cookie("INGRESSCOOKIE", value(retry.setCookie())).build();
            assertThat(a.pick(next, Set.of(), "/").endpoint()).isEqualTo(retry.endpoint());
        }
    }

    @Test
    void firstPickAvoidsEndpointsThatAlreadyFailed() {
        for (AffinityConfig.Mode mode : AffinityConfig.Mode.values()) {
            CookieAffinity a = affinity(AffinityConfig.builder().mode(mode).build());
            Set<Endpoint> failed = Set.of(EPS.get(0), EPS.get(1), EPS.get(2));
            for (int i = 0; i < 50; i++) {
                assertThat(a.pick(req().build(), failed, "/").endpoint()).isIn(EPS.get(3), EPS.get(4));
            }
        }
    }

    @Test
    void backendKeyIsDoubleMd5OfTheName() {
        assertThat(affinity(AffinityConfig.defaults()).backendKey()).isEqualTo(BACKEND_KEY);
    }

    @Test
    void emptyBackendPicksNothing() {
        CookieAffinity a = affinity(List.of(), AffinityConfig.defaults());
        assertThat(a.pick(req().build(), Set.of(), "/")).isEqualTo(Pick.of(null));
    }
}
