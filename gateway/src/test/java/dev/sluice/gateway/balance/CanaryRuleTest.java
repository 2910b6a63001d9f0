package dev.sluice.gateway.balance;

import dev.sluice.gateway.request.SimpleRequestView;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.re2j.Pattern;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** SPEC §5.3: the canary decision of one request, fixture by fixture. */
class CanaryRuleTest {

    // canary-by-header: X-Canary, canary-by-cookie: beta, canary-weight: 0 unless stated
    private static final CanaryRule HEADER_COOKIE = rule("X-Canary", null, null, "beta", 0, 100);
    private static final CanaryRule VALUES = rule("X-Canary", "v1||v2", null, "beta", 0, 100);
    private static final CanaryRule PATTERN = rule("X-Canary", null, "^v[0-9]+$", "beta", 0, 100);
    private static final CanaryRule VALUES_AND_PATTERN = rule("X-Canary", "v1", ".*", "beta", 0, 100);
    private static final CanaryRule ALL_WEIGHT = rule("X-Canary", null, null, "beta", 100, 100);

    static Stream<Arguments> fixtures() {
        return Stream.of(
                // header always / never / other
                fixture("header always → canary", HEADER_COOKIE, req().header("X-Canary", "always"), CanaryDecision.HEADER_ALWAYS),
                fixture("header never → mainline", HEADER_COOKIE, req().header("X-Canary", "never"), CanaryDecision.HEADER_NEVER),
                fixture("header name is case-insensitive", HEADER_COOKIE, req().header("x-CANARY", "always"), CanaryDecision.HEADER_ALWAYS),
                fixture("header value is case-sensitive: Always falls through to weight", HEADER_COOKIE, req().header("X-Canary", "Always"), CanaryDecision.WEIGHT_MAINLINE),
                fixture("header other → weight", HEADER_COOKIE, req().header("X-Canary", "maybe"), CanaryDecision.WEIGHT_MAINLINE),
                fixture("header other → weight 100 → canary", ALL_WEIGHT, req().header("X-Canary", "maybe"), CanaryDecision.WEIGHT_CANARY),
                fixture("header never stops before weight 100", ALL_WEIGHT, req().header("X-Canary", "never"), CanaryDecision.HEADER_NEVER),
                fixture("no header → weight", HEADER_COOKIE, req(), CanaryDecision.WEIGHT_MAINLINE),
                fixture("empty header value is not always", HEADER_COOKIE, req().header("X-Canary", ""), CanaryDecision.WEIGHT_MAINLINE),
                // header value list
                fixture("value v1 → canary", VALUES, req().header("X-Canary", "v1"), CanaryDecision.HEADER_VALUE),
                fixture("value v2 of v1||v2 → canary", VALUES, req().header("X-Canary", "v2"), CanaryDecision.HEADER_VALUE),
                fixture("value V1 (case differs) → falls through", VALUES, req().header("X-Canary", "V1"), CanaryDecision.WEIGHT_MAINLINE),
                fixture("value list set: always loses its meaning", VALUES, req().header("X-Canary", "always"), CanaryDecision.WEIGHT_MAINLINE),
                fixture("value list set: never loses its meaning (weight 100 → canary)",
                        rule("X-Canary", "v1", null, null, 100, 100), req().header("X-Canary", "never"), CanaryDecision.WEIGHT_CANARY),
                fixture("value no match falls to cookie always", VALUES, req().header("X-Canary", "v3").cookie("beta", "always"), CanaryDecision.COOKIE_ALWAYS),
                fixture("value no match falls to cookie never", VALUES, req().header("X-Canary", "v3").cookie("beta", "never"), CanaryDecision.COOKIE_NEVER),
                fixture("value is not a substring match", VALUES, req().header("X-Canary", "v1x"), CanaryDecision.WEIGHT_MAINLINE),
                // header pattern
                fixture("pattern match → canary", PATTERN, req().header("X-Canary", "v42"), CanaryDecision.HEADER_PATTERN),
                fixture("pattern no match → cookie", PATTERN, req().header("X-Canary", "x42").cookie("beta", "always"), CanaryDecision.COOKIE_ALWAYS),
                fixture("pattern no match → weight", PATTERN, req().header("X-Canary", "x42"), CanaryDecision.WEIGHT_MAINLINE),
                fixture("pattern set: always is just a value that does not match", PATTERN, req().header("X-Canary", "always"), CanaryDecision.WEIGHT_MAINLINE),
                fixture("pattern set: never does not stop", rule("X-Canary", null, "^v", null, 100, 100), req().header("X-Canary", "never"), CanaryDecision.WEIGHT_CANARY),
                fixture("unanchored pattern searches the value", rule("X-Canary", null, "beta", null, 0, 100), req().header("X-Canary", "x-beta-y"), CanaryDecision.HEADER_PATTERN),
                fixture("value list wins over pattern", VALUES_AND_PATTERN, req().header("X-Canary", "anything"), CanaryDecision.WEIGHT_MAINLINE),
                fixture("value list wins over pattern (match)", VALUES_AND_PATTERN, req().header("X-Canary", "v1"), CanaryDecision.HEADER_VALUE),
                // cookie always / never / other
                fixture("cookie always → canary", HEADER_COOKIE, req().cookie("beta", "always"), CanaryDecision.COOKIE_ALWAYS),
                fixture("cookie never → mainline", HEADER_COOKIE, req().cookie("beta", "never"), CanaryDecision.COOKIE_NEVER),
                fixture("cookie never stops before weight 100", ALL_WEIGHT, req().cookie("beta", "never"), CanaryDecision.COOKIE_NEVER),
                fixture("cookie other → weight 100", ALL_WEIGHT, req().cookie("beta", "yes"), CanaryDecision.WEIGHT_CANARY),
                fixture("another cookie name is ignored", HEADER_COOKIE, req().cookie("alpha", "always"), CanaryDecision.WEIGHT_MAINLINE),
                fixture("canary cookie among others", HEADER_COOKIE, req().cookie("a", "1").cookie("beta", "always").cookie("c", "3"), CanaryDecision.COOKIE_ALWAYS),
                // precedence header > cookie > weight
                fixture("header always beats cookie never", HEADER_COOKIE, req().header("X-Canary", "always").cookie("beta", "never"), CanaryDecision.HEADER_ALWAYS),
                fixture("header never beats cookie always", HEADER_COOKIE, req().header("X-Canary", "never").cookie("beta", "always"), CanaryDecision.HEADER_NEVER),
                fixture("header other → cookie always", HEADER_COOKIE, req().header("X-Canary", "x").cookie("beta", "always"), CanaryDecision.COOKIE_ALWAYS),
                fixture("cookie never beats weight 100", ALL_WEIGHT, req().cookie("beta", "never"), CanaryDecision.COOKIE_NEVER),
                // weight only
                fixture("weight 0 → mainline", CanaryRule.weight(0), req(), CanaryDecision.WEIGHT_MAINLINE),
                fixture("weight 100 → canary", CanaryRule.weight(100), req(), CanaryDecision.WEIGHT_CANARY),
                fixture("weight above total → canary", rule(null, null, null, null, 150, 100), req(), CanaryDecision.WEIGHT_CANARY),
                fixture("weight equal to a small total → canary", rule(null, null, null, null, 7, 7), req(), CanaryDecision.WEIGHT_CANARY),
                fixture("no header rule: the header is ignored", CanaryRule.weight(0), req().header("X-Canary", "always"), CanaryDecision.WEIGHT_MAINLINE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void decides(String description, CanaryRule rule, SimpleRequestView.Builder request, CanaryDecision expected) {
        CanaryDecision d = rule.decide(request.build(), false, false, new SplittableRandom(1));
        assertThat(d).isEqualTo(expected);
    }

    @Test
    void mainlineAffinityOverridesEverything() {
        SimpleRequestView r = req().header("X-Canary", "always").cookie("beta", "always").build();
        assertThat(ALL_WEIGHT.decide(r, true, false)).isEqualTo(CanaryDecision.MAINLINE_AFFINITY);
        assertThat(ALL_WEIGHT.decide(r, true, true)).isEqualTo(CanaryDecision.MAINLINE_AFFINITY);
        assertThat(CanaryDecision.MAINLINE_AFFINITY.canary()).isFalse();
    }

    @Test
    void canaryAffinityOverridesHeaderCookieAndWeight() {
        SimpleRequestView r = req().header("X-Canary", "never").cookie("beta", "never").build();
        assertThat(HEADER_COOKIE.decide(r, false, true)).isEqualTo(CanaryDecision.CANARY_AFFINITY);
        assertThat(CanaryDecision.CANARY_AFFINITY.canary()).isTrue();
    }

    @Test
    void headerNameUnderscoreMeansDash() {
        CanaryRule r = rule("X_Canary", null, null, null, 0, 100);
        assertThat(r.header()).isEqualTo("x-canary");
        assertThat(r.decide(req().header("X-Canary", "always").build(), false, false))
                .isEqualTo(CanaryDecision.HEADER_ALWAYS);
    }

    @Test
    void forcedIsHeaderOrCookie() {
        assertThat(CanaryDecision.HEADER_ALWAYS.forced()).isTrue();
        assertThat(CanaryDecision.HEADER_VALUE.forced()).isTrue();
        assertThat(CanaryDecision.COOKIE_ALWAYS.forced()).isTrue();
        assertThat(CanaryDecision.WEIGHT_CANARY.forced()).isFalse();
        assertThat(CanaryDecision.CANARY_AFFINITY.forced()).isFalse();
    }

    @Test
    void drawIsUniformOneToTotalAndCanaryWhenAtMostWeight() {
        CanaryRule r = rule(null, null, null, null, 30, 100);
        assertThat(r.decide(req().build(), false, false, fixedDraw(1, 101, 30))).isEqualTo(CanaryDecision.WEIGHT_CANARY);
        assertThat(r.decide(req().build(), false, false, fixedDraw(1, 101, 31))).isEqualTo(CanaryDecision.WEIGHT_MAINLINE);
        assertThat(r.decide(req().build(), false, false, fixedDraw(1, 101, 1))).isEqualTo(CanaryDecision.WEIGHT_CANARY);
        assertThat(r.decide(req().build(), false, false, fixedDraw(1, 101, 100))).isEqualTo(CanaryDecision.WEIGHT_MAINLINE);
    }

    @Test
    void everyDrawOfOneToTotalSendsExactlyWeightOfThemToTheCanary() {
        assertThat(canaryDraws(rule(null, null, null, null, 30, 100))).isEqualTo(30);
        assertThat(canaryDraws(rule(null, null, null, null, 1, 100))).isEqualTo(1);
        assertThat(canaryDraws(rule(null, null, null, null, 99, 100))).isEqualTo(99);
        assertThat(canaryDraws(rule(null, null, null, null, 500, 1000))).isEqualTo(500);
        assertThat(canaryDraws(rule(null, null, null, null, 5, 1000))).isEqualTo(5);
    }

    @Test
    void totalBelow100IsHonoured() {
        // ingress-nginx would use 100 as the total here (25 %); Sluice's decision is weight/total.
        assertThat(canaryDraws(rule(null, null, null, null, 25, 50))).isEqualTo(25);
    }

    /**
     * The one statistical test of the weighted split: the production source (ThreadLocalRandom)
     * is uniform enough. Every other weight test draws exhaustively or from fixed values.
     */
    @Test
    void weight50WithTheDefaultRandomIsWithinSixSigma() {
        CanaryRule r = CanaryRule.weight(50);
        int canary = 0;
        SimpleRequestView req = req().build();
        for (int i = 0; i < 4_000; i++) {
            canary += r.decide(req, false, false).canary() ? 1 : 0;
        }
        assertThat((double) canary).isCloseTo(2_000, org.assertj.core.data.Offset.offset(6 * Math.sqrt(4_000 * 0.25)));
    }

    @Test
    void equalityComparesPatternText() {
        assertThat(rule("X", null, "^a", null, 1, 100)).isEqualTo(rule("X", null, "^a", null, 1, 100));
        assertThat(rule("X", null, "^a", null, 1, 100).hashCode()).isEqualTo(rule("X", null, "^a", null, 1, 100).hashCode());
        assertThat(rule("X", null, "^a", null, 1, 100)).isNotEqualTo(rule("X", null, "^b", null, 1, 100));
        assertThat(rule("X", "a||b", null, null, 1, 100)).isNotEqualTo(rule("X", "a", null, null, 1, 100));
    }

    @Test
    void rejectsInvalidWeights() {
        assertThatThrownBy(() -> rule(null, null, null, null, -1, 100)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> rule(null, null, null, null, 1, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    /** How many of the draws 1..total (each exactly once, checking the draw's range) go to the canary. */
    private static int canaryDraws(CanaryRule rule) {
        SimpleRequestView req = req().build();
        int canary = 0;
        for (int r = 1; r <= rule.weightTotal(); r++) {
            canary += rule.decide(req, false, false, fixedDraw(1, rule.weightTotal() + 1, r)).canary() ? 1 : 0;
        }
        return canary;
    }

    /** A random source that checks the draw's bounds and returns {@code value}. */
    private static RandomGenerator fixedDraw(int origin, int bound, int value) {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                throw new AssertionError("unexpected draw");
            }

            @Override
            public int nextInt(int o, int b) {
                assertThat(o).isEqualTo(origin);
                assertThat(b).isEqualTo(bound);
                return value;
            }
        };
    }

    static CanaryRule rule(String header, String values, String pattern, String cookie, int weight, int total) {
        return new CanaryRule(header, values == null ? java.util.List.of() : java.util.List.of(values.split("\\|\\|")),
                pattern == null ? null : Pattern.compile(pattern), cookie, weight, total);
    }

    static SimpleRequestView.Builder req() {
        return SimpleRequestView.builder();
    }

    private static Arguments fixture(String description, CanaryRule rule, SimpleRequestView.Builder request, CanaryDecision expected) {
        return Arguments.of(description, rule, request, expected);
    }
}
