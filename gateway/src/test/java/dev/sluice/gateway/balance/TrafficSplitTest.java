package dev.sluice.gateway.balance;

import static dev.sluice.gateway.balance.CanaryDecision.CANARY_AFFINITY;
import static dev.sluice.gateway.balance.CanaryDecision.CANARY_UNAVAILABLE;
import static dev.sluice.gateway.balance.CanaryDecision.COOKIE_ALWAYS;
import static dev.sluice.gateway.balance.CanaryDecision.HEADER_ALWAYS;
import static dev.sluice.gateway.balance.CanaryDecision.HEADER_NEVER;
import static dev.sluice.gateway.balance.CanaryDecision.MAINLINE_AFFINITY;
import static dev.sluice.gateway.balance.CanaryDecision.NO_CANARY;
import static dev.sluice.gateway.balance.CanaryDecision.WEIGHT_CANARY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.request.RequestView;
import dev.sluice.gateway.request.SimpleRequestView;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** SPEC §5.3–5.4 at the level of one location: which upstream serves a request. */
class TrafficSplitTest {
    static final Endpoint M1 = Endpoint.of("127.0.1.1", 8080);
    static final Endpoint M2 = Endpoint.of("127.0.1.2", 8080);
    static final Endpoint C1 = Endpoint.of("127.0.2.1", 8080);
    static final Endpoint C2 = Endpoint.of("127.0.2.2", 8080);

    static final Backend MAIN = Backend.of("default-web-80", List.of(M1, M2));
    static final Backend MAIN_EMPTY = Backend.of("default-web-80", List.of());
    static final Backend CANARY = Backend.of("default-web-canary-80", List.of(C1, C2));
    static final Backend CANARY_EMPTY = Backend.of("default-web-canary-80", List.of());
    static final Backend CANARY_MISSING = Backend.unavailable("default-gone-80", "service default/gone not found");

    /** canary-by-header: X-Canary, canary-by-cookie: beta, canary-weight as given. */
    static CanaryRule rule(int weight) {
        return new CanaryRule("X-Canary", List.of(), null, "beta", weight, 100);
    }

    static TrafficSplit split(Backend main, Backend canary, int weight) {
        return TrafficSplit.of(Upstream.of(main, BalancerSpec.DEFAULT), canary, BalancerSpec.DEFAULT, rule(weight),
                AffinityCanaryBehavior.STICKY);
    }

    static SimpleRequestView.Builder req() {
        return SimpleRequestView.builder();
    }

    static final SplittableRandom RND = new SplittableRandom(1);

    @Test
    void withoutCanaryTheMainlineServes() {
        Selection s = TrafficSplit.of(Upstream.of(MAIN, BalancerSpec.DEFAULT)).select(req().header("X-Canary", "always").build());
        assertThat(s).isInstanceOf(Selection.Serve.class);
        assertThat(s.upstream().backend()).isEqualTo(MAIN);
        assertThat(s.decision()).isEqualTo(NO_CANARY);
        assertThat(s.canary()).isFalse();
    }

    @Test
    void mainlineWithoutEndpointsAndNoCanaryIs503() {
        Selection s = TrafficSplit.of(Upstream.of(MAIN_EMPTY, BalancerSpec.DEFAULT)).select(req().build());
        assertThat(s).isInstanceOf(Selection.Unavailable.class);
        Selection.Unavailable u = (Selection.Unavailable) s;
        assertThat(u.status()).isEqualTo(503);
        assertThat(u.reason()).isEqualTo("no ready endpoints for default-web-80");
    }

    @Test
    void headerAlwaysGoesToTheCanary() {
        Selection s = split(MAIN, CANARY, 0).select(req().header("X-Canary", "always").build(), RND);
        assertThat(s).isEqualTo(new Selection.Serve(s.upstream(), HEADER_ALWAYS));
        assertThat(s.upstream().backend()).isEqualTo(CANARY);
        assertThat(s.canary()).isTrue();
    }

    @Test
    void canaryWithoutEndpointsFallsBackToTheMainlineEvenWhenForced() {
        for (Backend canary : List.of(CANARY_EMPTY, CANARY_MISSING)) {
            Selection s = split(MAIN, canary, 100).select(req().header("X-Canary", "always").build(), RND);
            assertThat(s).isInstanceOf(Selection.Serve.class);
            assertThat(s.upstream().backend()).isEqualTo(MAIN);
            assertThat(s.decision()).isEqualTo(CANARY_UNAVAILABLE);
        }
    }

    @Test
    void bothSidesEmptyIs503OnTheMainline() {
        Selection s = split(MAIN_EMPTY, CANARY_EMPTY, 100).select(req().header("X-Canary", "always").build(), RND);
        assertThat(s).isInstanceOf(Selection.Unavailable.class);
        assertThat(s.upstream().backend()).isEqualTo(MAIN_EMPTY);
    }

    @Test
    void forcedCanaryIsServedWhenTheMainlineHasNoEndpoints() {
        TrafficSplit split = split(MAIN_EMPTY, CANARY, 0);
        Selection byHeader = split.select(req().header("X-Canary", "always").build(), RND);
        assertThat(byHeader).isInstanceOf(Selection.Serve.class);
        assertThat(byHeader.upstream().backend()).isEqualTo(CANARY);
        Selection byCookie = split.select(req().cookie("beta", "always").build(), RND);
        assertThat(byCookie).isInstanceOf(Selection.Serve.class);
        assertThat(byCookie.decision()).isEqualTo(COOKIE_ALWAYS);
    }

    @Test
    void fullWeightCanaryIsServedWhenTheMainlineHasNoEndpoints() {
        Selection s = split(MAIN_EMPTY, CANARY, 100).select(req().build(), RND);
        assertThat(s).isEqualTo(new Selection.Serve(s.upstream(), WEIGHT_CANARY));
        assertThat(s.upstream().backend()).isEqualTo(CANARY);
    }

    @Test
    void requestsRoutedToAnEmptyMainlineAre503() {
        Selection s = split(MAIN_EMPTY, CANARY, 100).select(req().header("X-Canary", "never").build(), RND);
        assertThat(s).isInstanceOf(Selection.Unavailable.class);
        assertThat(s.decision()).isEqualTo(HEADER_NEVER);
        assertThat(((Selection.Unavailable) s).reason()).contains("default-web-80");
    }

    @Test
    void fiftyPercentWeightSendsExactlyHalfOfEveryHundredDraws() {
        TrafficSplit split = split(MAIN, CANARY, 50);
        CyclingDraw rnd = new CyclingDraw(); // each of 1..100 once per 100 requests
        RequestView r = req().build();
        int canary = 0;
        for (int i = 0; i < 400; i++) {
            canary += split.select(r, rnd).canary() ? 1 : 0;
        }
        assertThat(canary).isEqualTo(200);
    }

    // --- §5.4 canary and session affinity -------------------------------------------------

    static TrafficSplit sticky(AffinityCanaryBehavior behavior, int weight) {
        Upstream main = Upstream.of(MAIN, BalancerSpec.cookieAffinity(AffinityConfig.defaults()));
        return TrafficSplit.of(main, CANARY, BalancerSpec.DEFAULT, rule(weight), behavior);
    }

    static String cookieValue(String setCookie) {
        String pair = setCookie.substring(0, setCookie.indexOf(';'));
        return pair.substring(pair.indexOf('=') + 1);
    }

    @Test
    void stickyCanaryCopiesTheMainlineAffinity() {
        TrafficSplit split = sticky(AffinityCanaryBehavior.STICKY, 1);
        assertThat(split.canary().spec().affinity()).isEqualTo(AffinityConfig.defaults());
        assertThat(split.canary().balancer()).isInstanceOf(CookieAffinity.class);
        assertThat(((CookieAffinity) split.canary().balancer()).backendKey())
                .isNotEqualTo(((CookieAffinity) split.mainline().balancer()).backendKey());
    }

    @Test
    void legacyCanaryHasNoAffinity() {
        TrafficSplit split = sticky(AffinityCanaryBehavior.LEGACY, 1);
        assertThat(split.canary().spec().affinity()).isNull();
        assertThat(split.canary().balancer()).isInstanceOf(RoundRobin.class);
        assertThat(split.affinityCanaryBehavior()).isEqualTo(AffinityCanaryBehavior.LEGACY);
    }

    @Test
    void clientWithACanaryCookieKeepsGoingToTheCanaryAtOnePercent() {
        TrafficSplit split = sticky(AffinityCanaryBehavior.STICKY, 1);
        // the first request is forced to the canary, which issues its sticky cookie
        Selection first = split.select(req().header("X-Canary", "always").build(), RND);
        Pick p = first.upstream().balancer().pick(req().build(), Set.of(), "/");
        assertThat(p.endpoint()).isIn(C1, C2);
        RequestView withCookie = req().cookie("INGRESSCOOKIE", cookieValue(p.setCookie())).build();
        for (int i = 0; i < 200; i++) {
            Selection s = split.select(withCookie, RND);
            assertThat(s.decision()).isEqualTo(CANARY_AFFINITY);
            Pick again = s.upstream().balancer().pick(withCookie, Set.of(), "/");
            assertThat(again).isEqualTo(Pick.of(p.endpoint()));
        }
    }

    @Test
    void clientWithAMainlineCookieIgnoresCanaryHeaderAndCookie() {
        TrafficSplit split = sticky(AffinityCanaryBehavior.STICKY, 100);
        Pick p = split.mainline().balancer().pick(req().build(), Set.of(), "/");
        RequestView r = req().header("X-Canary", "always").cookie("beta", "always")
                .cookie("INGRESSCOOKIE", cookieValue(p.setCookie())).build();
        Selection s = split.select(r, RND);
        assertThat(s.decision()).isEqualTo(MAINLINE_AFFINITY);
        assertThat(s.upstream().backend()).isEqualTo(MAIN);
        assertThat(s.upstream().balancer().pick(r, Set.of(), "/")).isEqualTo(Pick.of(p.endpoint()));
    }

    @Test
    void legacyCanaryIsDecidedPerRequestAndSetsNoCookie() {
        TrafficSplit split = sticky(AffinityCanaryBehavior.LEGACY, 50);
        CyclingDraw rnd = new CyclingDraw(); // each of 1..100 once per 100 requests
        int canary = 0;
        for (int i = 0; i < 2000; i++) {
            RequestView r = req().build();
            Selection s = split.select(r, rnd);
            Pick p = s.upstream().balancer().pick(r, Set.of(), "/");
            if (s.canary()) {
                canary++;
                assertThat(p.setCookie()).isNull();
            } else {
                assertThat(p.setCookie()).startsWith("INGRESSCOOKIE=");
            }
        }
        assertThat(canary).isEqualTo(1000);
    }

    @Test
    void legacyMainlineCookieStillPinsToTheMainline() {
        TrafficSplit split = sticky(AffinityCanaryBehavior.LEGACY, 100);
        Pick p = split.mainline().balancer().pick(req().build(), Set.of(), "/");
        RequestView r = req().cookie("INGRESSCOOKIE", cookieValue(p.setCookie())).build();
        assertThat(split.select(r, RND).decision()).isEqualTo(MAINLINE_AFFINITY);
    }

    @Test
    void equalInputsGiveEqualSplits() {
        assertThat(split(MAIN, CANARY, 30)).isEqualTo(split(MAIN, CANARY, 30));
        assertThat(split(MAIN, CANARY, 30)).isNotEqualTo(split(MAIN, CANARY, 31));
        assertThat(sticky(AffinityCanaryBehavior.STICKY, 1)).isNotEqualTo(sticky(AffinityCanaryBehavior.LEGACY, 1));
    }

    @Test
    void canaryAndRuleComeTogether() {
        Upstream main = Upstream.of(MAIN, BalancerSpec.DEFAULT);
        assertThatThrownBy(() -> new TrafficSplit(main, null, rule(1), null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new TrafficSplit(main, null, null, null).affinityCanaryBehavior()).isEqualTo(AffinityCanaryBehavior.STICKY);
    }
}
