package dev.sluice.gateway.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.request.RequestView;
import dev.sluice.gateway.request.SimpleRequestView;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class EwmaTest {
    static final Endpoint A = Endpoint.of("127.0.0.1", 80);
    static final Endpoint B = Endpoint.of("127.0.0.2", 80);
    static final Endpoint C = Endpoint.of("127.0.0.3", 80);
    static final RequestView REQ = SimpleRequestView.empty();
    static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    final AtomicLong now = new AtomicLong(1_000_000_000L);

    Ewma ewma(List<Endpoint> eps, Ewma previous) {
        SplittableRandom rnd = new SplittableRandom(17);
        return Ewma.of(eps, previous, now::get, () -> rnd);
    }

    /** Picks and answers {@code rounds} times with each endpoint's latency; returns the hits. */
    static Map<Endpoint, Integer> run(Ewma lb, Map<Endpoint, Long> latency, int rounds) {
        Map<Endpoint, Integer> hits = new HashMap<>();
        for (int i = 0; i < rounds; i++) {
            Endpoint e = lb.pick(REQ, Set.of());
            hits.merge(e, 1, Integer::sum);
            lb.onResponse(e, latency.get(e));
        }
        return hits;
    }

    @Test
    void prefersTheFastEndpointOfTwoAfterFeedback() {
        Ewma lb = ewma(List.of(A, B), null);
        lb.onResponse(A, 1 * MS);
        lb.onResponse(B, 50 * MS);
        Map<Endpoint, Integer> hits = run(lb, Map.of(A, 1 * MS, B, 50 * MS), 1000);
        assertThat(hits).containsExactly(Map.entry(A, 1000));
    }

    @Test
    void fastEndpointWinsEveryPairItIsIn() {
        Ewma lb = ewma(List.of(A, B, C), null);
        lb.onResponse(A, 1 * MS);
        lb.onResponse(B, 50 * MS);
        lb.onResponse(C, 50 * MS);
        Map<Endpoint, Integer> hits = run(lb, Map.of(A, 1 * MS, B, 50 * MS, C, 50 * MS), 3000);
        // A is in 2 of the 3 possible pairs
        assertThat(hits.get(A)).isBetween(1800, 2200);
        assertThat(hits.get(B) + hits.get(C)).isEqualTo(3000 - hits.get(A));
    }

    @Test
    void inFlightRequestsRaiseTheCost() {
        Ewma lb = ewma(List.of(A, B), null);
        lb.onResponse(A, 10 * MS);
        lb.onResponse(B, 10 * MS);
        // three attempts on A that have not answered yet
        for (int i = 0; i < 3; i++) {
            assertThat(lb.pick(REQ, Set.of(B))).isEqualTo(A);
        }
        assertThat(lb.cost(A)).isEqualTo(4 * lb.cost(B));
        for (int i = 0; i < 20; i++) {
            Endpoint e = lb.pick(REQ, Set.of());
            assertThat(e).isEqualTo(B);
            lb.onResponse(e, 10 * MS);
        }
    }

    @Test
    void slowSpikeCountsAtOnceAndFadesWithTheDecayTime() {
        Ewma lb = ewma(List.of(A, B), null);
        lb.onResponse(A, 10 * MS);
        lb.onResponse(A, 200 * MS); // peak: jumps straight up
        assertThat(lb.cost(A)).isEqualTo(200 * MS);
        now.addAndGet(TimeUnit.SECONDS.toNanos(10)); // one decay time later
        lb.onResponse(A, 10 * MS);
        double expected = 200 * MS * Math.exp(-1) + 10 * MS * (1 - Math.exp(-1));
        assertThat(lb.cost(A)).isCloseTo(expected, org.assertj.core.data.Offset.offset(1.0));
    }

    @Test
    void anIdleSlowEndpointIsTriedAgainLater() {
        Ewma lb = ewma(List.of(A, B), null);
        lb.onResponse(A, 1 * MS);
        lb.onResponse(B, 50 * MS);
        now.addAndGet(TimeUnit.SECONDS.toNanos(100));
        lb.onResponse(A, 1 * MS); // A stays busy at 1 ms, B has been idle for 100 s
        assertThat(lb.cost(B)).isLessThan(lb.cost(A));
        assertThat(lb.pick(REQ, Set.of())).isEqualTo(B);
    }

    @Test
    void unmeasuredEndpointWithAttemptsInFlightIsAvoided() {
        Ewma lb = ewma(List.of(A, B), null);
        lb.onResponse(B, 30 * MS);
        assertThat(lb.pick(REQ, Set.of(B))).isEqualTo(A); // A: in flight, never answered
        for (int i = 0; i < 20; i++) {
            Endpoint e = lb.pick(REQ, Set.of());
            assertThat(e).isEqualTo(B);
            lb.onResponse(e, 30 * MS);
        }
    }

    @Test
    void retryHonoursExclude() {
        Ewma lb = ewma(List.of(A, B, C), null);
        lb.onResponse(A, 1 * MS);
        lb.onResponse(B, 50 * MS);
        lb.onResponse(C, 60 * MS);
        for (int i = 0; i < 200; i++) {
            Endpoint e = lb.pick(REQ, Set.of(A));
            assertThat(e).isIn(B, C);
            lb.onResponse(e, 50 * MS);
            assertThat(lb.pick(REQ, Set.of(A, B))).isEqualTo(C);
            lb.onResponse(C, 60 * MS);
        }
        Endpoint any = lb.pick(REQ, Set.of(A, B, C));
        assertThat(any).isIn(A, B, C);
    }

    @Test
    void rebuiltBalancerKeepsWhatItLearnedAndSeedsNewEndpointsWithTheAverage() {
        Ewma first = ewma(List.of(A, B), null);
        first.onResponse(A, 10 * MS);
        first.onResponse(B, 30 * MS);
        Ewma second = ewma(List.of(A, B, C), first);
        assertThat(second.cost(A)).isEqualTo(10.0 * MS);
        assertThat(second.cost(B)).isEqualTo(30.0 * MS);
        assertThat(second.cost(C)).isEqualTo(20.0 * MS);
        // an attempt picked from the old balancer reports to the new one's counters too
        assertThat(first.pick(REQ, Set.of(B))).isEqualTo(A);
        assertThat(second.cost(A)).isEqualTo(20.0 * MS);
        first.onResponse(A, 10 * MS);
        assertThat(second.cost(A)).isEqualTo(10.0 * MS);
    }

    @Test
    void singleAndEmpty() {
        assertThat(ewma(List.of(), null).pick(REQ, Set.of())).isNull();
        assertThat(ewma(List.of(A), null).pick(REQ, Set.of(A))).isEqualTo(A);
    }
}
