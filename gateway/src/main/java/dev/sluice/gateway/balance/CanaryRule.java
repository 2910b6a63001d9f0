package dev.sluice.gateway.balance;

import dev.sluice.gateway.request.RequestView;
import com.google.re2j.Pattern;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * The traffic-shaping policy of a canary Ingress ({@code nginx.ingress.kubernetes.io/canary-*}
 * annotations): which requests of a mainline location go to the canary backend.
 *
 * <p>Precedence, as in ingress-nginx's {@code route_to_alternative_balancer}: session affinity
 * (mainline, then canary) &gt; header &gt; cookie &gt; weight. Examples with
 * {@code canary-by-header: X-Canary}, {@code canary-by-cookie: beta}, {@code canary-weight: 30}:
 * <ul>
 *   <li>{@code X-Canary: always} → canary; {@code X-Canary: never} → mainline (cookie and weight
 *       are not consulted); {@code X-Canary: maybe} → falls through to the cookie;</li>
 *   <li>with {@code canary-by-header-value: v1||v2}: {@code X-Canary: v2} → canary,
 *       {@code X-Canary: always} → falls through (the value list replaces always/never);</li>
 *   <li>with {@code canary-by-header-pattern: ^v[0-9]+$} (used only when there is no value list):
 *       {@code X-Canary: v7} → canary, {@code X-Canary: x} → falls through;</li>
 *   <li>cookie {@code beta=always} → canary, {@code beta=never} → mainline, other → weight;</li>
 *   <li>otherwise canary with probability {@code weight / weightTotal}.</li>
 * </ul>
 *
 * @param header        request header name in lower case with {@code _} read as {@code -}
 *                      (NGINX's {@code $http_x_canary} matches {@code X-Canary}), or {@code null}
 * @param headerValues  {@code canary-by-header-value} split at {@code ||}: exact, case-sensitive
 *                      values that select the canary; empty when not set
 * @param headerPattern {@code canary-by-header-pattern} (re2j; searched anywhere in the value like
 *                      {@code ngx.re.match}), or {@code null}; ignored when values are set
 * @param cookie        cookie name (exact), or {@code null}
 * @param weight        {@code canary-weight}, 0 or more
 * @param weightTotal   {@code canary-weight-total}, 1 or more (default 100). Sluice uses
 *                      {@code weight / weightTotal} for every total; ingress-nginx ignores totals
 *                      up to 100.
 */
public record CanaryRule(
        String header, List<String> headerValues, Pattern headerPattern, String cookie, int weight, int weightTotal) {

    /** The default of {@code canary-weight-total}. */
    public static final int DEFAULT_WEIGHT_TOTAL = 100;

    public CanaryRule {
        header = header == null || header.isEmpty() ? null : header.toLowerCase(Locale.ROOT).replace('_', '-');
        headerValues = List.copyOf(headerValues == null ? List.of() : headerValues);
        cookie = cookie == null || cookie.isEmpty() ? null : cookie;
        if (headerPattern != null && headerPattern.pattern().isEmpty()) {
            headerPattern = null;
        }
        if (weight < 0) {
            throw new IllegalArgumentException("canary weight must be >= 0: " + weight);
        }
        if (weightTotal < 1) {
            throw new IllegalArgumentException("canary weight total must be >= 1: " + weightTotal);
        }
    }

    /** A rule that only splits by weight (out of {@value #DEFAULT_WEIGHT_TOTAL}). */
    public static CanaryRule weight(int weight) {
        return new CanaryRule(null, List.of(), null, null, weight, DEFAULT_WEIGHT_TOTAL);
    }

    /** {@link #decide(RequestView, boolean, boolean, RandomGenerator)} with a per-thread random source. */
    public CanaryDecision decide(RequestView req, boolean mainlineAffinitized, boolean canaryAffinitized) {
        return decide(req, mainlineAffinitized, canaryAffinitized, ThreadLocalRandom.current());
    }

    /**
     * Decides whether one request goes to the canary (SPEC §5.3 steps 1, 3, 5–7). The caller has
     * already checked that the canary has endpoints (step 2) and calls this <b>once per request</b>:
     * retries of the request stay on the side chosen here, as ingress-nginx caches the balancer in
     * {@code ngx.ctx}.
     *
     * @param mainlineAffinitized the request carries the mainline's sticky cookie
     * @param canaryAffinitized   the request carries a sticky cookie issued by the canary
     * @param rnd                 the source of the weighted draw (uniform, independent per request)
     */
    public CanaryDecision decide(
            RequestView req, boolean mainlineAffinitized, boolean canaryAffinitized, RandomGenerator rnd) {
        if (mainlineAffinitized) {
            return CanaryDecision.MAINLINE_AFFINITY;
        }
        if (canaryAffinitized) {
            return CanaryDecision.CANARY_AFFINITY;
        }
        if (header != null) {
            String value = req.header(header);
            if (value != null) {
                if (!headerValues.isEmpty()) {
                    if (headerValues.contains(value)) {
                        return CanaryDecision.HEADER_VALUE;
                    }
                } else if (headerPattern != null) {
                    if (headerPattern.matcher(value).find()) {
                        return CanaryDecision.HEADER_PATTERN;
                    }
                } else if (value.equals("always")) {
                    return CanaryDecision.HEADER_ALWAYS;
                } else if (value.equals("never")) {
                    return CanaryDecision.HEADER_NEVER;
                }
            }
        }
        if (cookie != null) {
            String value = req.cookie(cookie);
            if ("always".equals(value)) {
                return CanaryDecision.COOKIE_ALWAYS;
            }
            if ("never".equals(value)) {
                return CanaryDecision.COOKIE_NEVER;
            }
        }
        if (weight <= 0) {
            return CanaryDecision.WEIGHT_MAINLINE;
        }
        if (weight >= weightTotal) {
            return CanaryDecision.WEIGHT_CANARY;
        }
        // r uniform in [1, total], canary when r <= weight: exactly weight/total.
        int r = rnd.nextInt(1, weightTotal + 1);
        return r <= weight ? CanaryDecision.WEIGHT_CANARY : CanaryDecision.WEIGHT_MAINLINE;
    }

    // re2j's Pattern has identity equality; rules are equal when the pattern text and flags are.
    @Override
    public boolean equals(Object o) {
        return o instanceof CanaryRule r
                && Objects.equals(header, r.header)
                && headerValues.equals(r.headerValues)
                && Objects.equals(patternKey(headerPattern), patternKey(r.headerPattern))
                && Objects.equals(cookie, r.cookie)
                && weight == r.weight
                && weightTotal == r.weightTotal;
    }

    @Override
    public int hashCode() {
        return Objects.hash(header, headerValues, patternKey(headerPattern), cookie, weight, weightTotal);
    }

    @Override
    public String toString() {
        return "CanaryRule[header=" + header + ", headerValues=" + headerValues
                + ", headerPattern=" + (headerPattern == null ? null : headerPattern.pattern())
                + ", cookie=" + cookie + ", weight=" + weight + "/" + weightTotal + "]";
    }

    private static String patternKey(Pattern p) {
        return p == null ? null : p.flags() + "/" + p.pattern();
    }
}
