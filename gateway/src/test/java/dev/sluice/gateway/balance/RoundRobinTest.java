package dev.sluice.gateway.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.request.RequestView;
import dev.sluice.gateway.request.SimpleRequestView;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RoundRobinTest {
    static final Endpoint A = Endpoint.of("127.0.0.1", 8080);
    static final Endpoint B = Endpoint.of("127.0.0.2", 8080);
    static final Endpoint C = Endpoint.of("127.0.0.3", 8080);
    static final RequestView REQ = SimpleRequestView.empty();

    @Test
    void sixHundredSequentialRequestsOverThreeEndpointsAreExactly200Each() {
        RoundRobin rr = RoundRobin.of(List.of(A, B, C));
        Map<Endpoint, Integer> hits = new HashMap<>();
        for (int i = 0; i < 600; i++) {
            hits.merge(rr.pick(REQ, Set.of()), 1, Integer::sum);
        }
        assertThat(hits).containsExactlyInAnyOrderEntriesOf(Map.of(A, 200, B, 200, C, 200));
    }

    @Test
    void everyWindowOfThreeVisitsEachEndpointOnce() {
        RoundRobin rr = RoundRobin.of(List.of(A, B, C));
        for (int round = 0; round < 10; round++) {
            assertThat(List.of(rr.pick(REQ, Set.of()), rr.pick(REQ, Set.of()), rr.pick(REQ, Set.of())))
                    .containsExactlyInAnyOrder(A, B, C);
        }
    }

    @Test
    void retrySkipsTriedEndpoints() {
        RoundRobin rr = RoundRobin.of(List.of(A, B, C));
        for (int i = 0; i < 30; i++) {
            assertThat(rr.pick(REQ, Set.of(A, B))).isEqualTo(C);
            assertThat(rr.pick(REQ, Set.of(C))).isIn(A, B);
        }
    }

    @Test
    void retriesDoNotAdvanceTheRotation() {
        // [dead, live]: each request that starts on the dead one retries on the live one; the
        // retry must not push the next request back onto the dead one
        RoundRobin rr = RoundRobin.of(List.of(A, B));
        int startsOnA = 0;
        for (int i = 0; i < 10; i++) {
            Endpoint first = rr.pick(REQ, Set.of());
            if (first.equals(A)) {
                startsOnA++;
                assertThat(rr.pick(REQ, Set.of(A))).isEqualTo(B);
            }
        }
        assertThat(startsOnA).isEqualTo(5);
    }

    @Test
    void allExcludedStillAnswers() {
        RoundRobin rr = RoundRobin.of(List.of(A));
        assertThat(rr.pick(REQ, Set.of(A))).isEqualTo(A);
    }

    @Test
    void emptyBackendPicksNothing() {
        RoundRobin rr = RoundRobin.of(List.of());
        assertThat(rr.pick(REQ, Set.of())).isNull();
        assertThat(rr.pick(REQ, Set.of(), "/").endpoint()).isNull();
    }

    @Test
    void continuingKeepsTheRotation() {
        RoundRobin first = RoundRobin.of(List.of(A, B, C));
        Endpoint last = first.pick(REQ, Set.of());
        RoundRobin next = RoundRobin.continuing(List.of(A, B, C), first);
        List<Endpoint> order = List.of(A, B, C);
        assertThat(next.pick(REQ, Set.of())).isEqualTo(order.get((order.indexOf(last) + 1) % 3));
    }
}
