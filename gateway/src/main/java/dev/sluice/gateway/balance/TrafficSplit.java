package dev.sluice.gateway.balance;

import dev.sluice.gateway.request.RequestView;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.random.RandomGenerator;

/**
 * Where the requests of one location go: the mainline upstream and, optionally, one canary
 * upstream with its {@link CanaryRule} (SPEC §5). The proxy calls {@link #select} <b>once per
 * request</b> and keeps the result for every retry of that request, so retries never switch
 * sides.
 *
 * <p>Order of {@link #select}:
 * <ol>
 *   <li>no canary → mainline ({@link CanaryDecision#NO_CANARY});</li>
 *   <li>the canary has no endpoints → mainline ({@link CanaryDecision#CANARY_UNAVAILABLE});</li>
 *   <li>otherwise {@link CanaryRule#decide} with the affinity of both sides (mainline sticky
 *       cookie, then canary sticky cookie, then header, cookie, weight);</li>
 *   <li>the chosen side has no endpoints → {@link Selection.Unavailable} (503).</li>
 * </ol>
 * Unlike ingress-nginx, which answers 503 before any canary logic when the mainline has no
 * endpoints (#9635), a request routed to the canary (by header, cookie, canary affinity or
 * weight) is served by the canary whatever the state of the mainline.
 *
 * @param mainline               the location's backend
 * @param canary                 the canary backend, or {@code null}
 * @param rule                   the canary's traffic-shaping policy ({@code null} iff no canary)
 * @param affinityCanaryBehavior the canary Ingress's {@code affinity-canary-behavior}, already
 *                               applied to the canary's balancer by {@link #of(Upstream, Backend,
 *                               BalancerSpec, CanaryRule, AffinityCanaryBehavior)}
 */
public record TrafficSplit(
        Upstream mainline, Upstream canary, CanaryRule rule, AffinityCanaryBehavior affinityCanaryBehavior) {

    public TrafficSplit {
        Objects.requireNonNull(mainline, "mainline");
        if ((canary == null) != (rule == null)) {
            throw new IllegalArgumentException("a canary needs a rule and a rule needs a canary");
        }
        if (affinityCanaryBehavior == null) {
            affinityCanaryBehavior = AffinityCanaryBehavior.STICKY;
        }
    }

    /** A location without canary. */
    public static TrafficSplit of(Upstream mainline) {
        return new TrafficSplit(mainline, null, null, AffinityCanaryBehavior.STICKY);
    }

    /**
     * A location with a canary. The canary's balancer is built from {@code canarySpec} (the canary
     * Ingress's own {@code load-balance} / {@code upstream-hash-by}) with the mainline's cookie
     * affinity copied in ({@code STICKY}) or removed ({@code LEGACY}).
     */
    public static TrafficSplit of(Upstream mainline, Backend canary, BalancerSpec canarySpec, CanaryRule rule,
            AffinityCanaryBehavior behavior) {
        AffinityCanaryBehavior b = behavior == null ? AffinityCanaryBehavior.STICKY : behavior;
        Upstream canaryUpstream = Upstream.of(canary, canarySpec.forCanaryOf(mainline.spec(), b));
        return new TrafficSplit(mainline, canaryUpstream, Objects.requireNonNull(rule, "rule"), b);
    }

    /**
     * This split with every upstream {@code u} replaced by {@code replace.apply(u)}; this very
     * split when no upstream was replaced.
     */
    public TrafficSplit withUpstreams(UnaryOperator<Upstream> replace) {
        Upstream m = replace.apply(mainline);
        Upstream c = canary == null ? null : replace.apply(canary);
        return m == mainline && c == canary ? this : new TrafficSplit(m, c, rule, affinityCanaryBehavior);
    }

    /** Calls {@code action} with the mainline upstream, then the canary's if there is one. */
    public void forEachUpstream(Consumer<Upstream> action) {
        action.accept(mainline);
        if (canary != null) {
            action.accept(canary);
        }
    }

    public boolean hasCanary() {
        return canary != null;
    }

    /** {@link #select(RequestView, RandomGenerator)} with a per-thread random source. */
    public Selection select(RequestView req) {
        return select(req, ThreadLocalRandom.current());
    }

    /** Chooses the side of one request; call once per request (see the class comment). */
    public Selection select(RequestView req, RandomGenerator rnd) {
        if (canary == null) {
            return on(mainline, CanaryDecision.NO_CANARY);
        }
        if (!canary.hasEndpoints()) {
            return on(mainline, CanaryDecision.CANARY_UNAVAILABLE);
        }
        boolean mainlineAffinitized = mainline.balancer().isAffinitized(req);
        boolean canaryAffinitized = !mainlineAffinitized && canary.balancer().isAffinitized(req);
        CanaryDecision d = rule.decide(req, mainlineAffinitized, canaryAffinitized, rnd);
        return on(d.canary() ? canary : mainline, d);
    }

    private static Selection on(Upstream side, CanaryDecision d) {
        return side.hasEndpoints() ? new Selection.Serve(side, d) : new Selection.Unavailable(side, d);
    }
}
