package dev.sluice.gateway.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.request.RequestView;
import dev.sluice.gateway.request.SimpleRequestView;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ConsistentHashTest {
    static final HashKeyExpression BY_URI = HashKeyExpression.compile("$request_uri");

    static List<Endpoint> endpoints(int n) {
        List<Endpoint> out = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            out.add(Endpoint.of("127.0.0." + i, 8080));
        }
        return out;
    }

    static RequestView uri(String uri) {
        return SimpleRequestView.builder().requestUri(uri).build();
    }

    @Test
    void murmur3MatchesTheReferenceVectors() {
        assertThat(Murmur3.hash32(new byte[0], 0)).isZero();
        assertThat(Murmur3.hash32(new byte[0], 1)).isEqualTo(0x514e28b7);
        assertThat(Murmur3.hash32("a")).isEqualTo(0x3c2569b2);
        assertThat(Murmur3.hash32("ab")).isEqualTo(0x9bbfd75f);
        assertThat(Murmur3.hash32("abc")).isEqualTo(0xb3dd93fa);
        assertThat(Murmur3.hash32("abcd")).isEqualTo(0x43ed676a);
        assertThat(Murmur3.hash32("hello")).isEqualTo(0x248bfa47);
        assertThat(Murmur3.hash32("The quick brown fox jumps over the lazy dog")).isEqualTo(0x2e4ff723);
        assertThat(Murmur3.hash32("é€".getBytes(StandardCharsets.UTF_8), 1)).isEqualTo(0x1fb26303);
    }

    @Test
    void sameKeyGoesToTheSameEndpointEveryTime() {
        ConsistentHash ch = ConsistentHash.of(endpoints(5), BY_URI);
        Endpoint first = ch.pick(uri("/cart/17"), Set.of());
        for (int i = 0; i < 1000; i++) {
            assertThat(ch.pick(uri("/cart/17"), Set.of())).isEqualTo(first);
        }
    }

    @Test
    void rebuiltBalancerWithTheSameEndpointsInAnotherOrderAgrees() {
        List<Endpoint> eps = endpoints(5);
        ConsistentHash a = ConsistentHash.of(eps, BY_URI);
        List<Endpoint> shuffled = new ArrayList<>(eps);
        Collections.shuffle(shuffled, new java.util.Random(3));
        ConsistentHash b = ConsistentHash.of(shuffled, BY_URI);
        for (int i = 0; i < 1000; i++) {
            RequestView r = uri("/item/" + i);
            assertThat(b.pick(r, Set.of())).isEqualTo(a.pick(r, Set.of()));
        }
    }

    @Test
    void keysSpreadOverAllEndpoints() {
        ConsistentHash ch = ConsistentHash.of(endpoints(5), BY_URI);
        Map<Endpoint, Integer> hits = new HashMap<>();
        for (int i = 0; i < 10_000; i++) {
            hits.merge(ch.pick(uri("/k/" + i), Set.of()), 1, Integer::sum);
        }
        assertThat(hits).hasSize(5);
        // 160 points per endpoint keep each share near 20 %
        assertThat(hits.values()).allSatisfy(n -> assertThat(n).isBetween(1_200, 2_800));
    }

    @Test
    void removingOneOfFiveEndpointsMovesOnlyItsKeys() {
        List<Endpoint> five = endpoints(5);
        ConsistentHash before = ConsistentHash.of(five, BY_URI);
        Endpoint removed = five.get(2);
        List<Endpoint> four = new ArrayList<>(five);
        four.remove(removed);
        ConsistentHash after = ConsistentHash.of(four, BY_URI);
        int moved = 0;
        for (int i = 0; i < 10_000; i++) {
            RequestView r = uri("/k/" + i);
            Endpoint was = before.pick(r, Set.of());
            Endpoint now = after.pick(r, Set.of());
            if (!was.equals(now)) {
                moved++;
                assertThat(was).as("only keys of the removed endpoint move").isEqualTo(removed);
            }
        }
        assertThat(moved).isLessThan(3_500).isGreaterThan(0);
    }

    @Test
    void retryWalksToTheNextUntriedEndpointDeterministically() {
        ConsistentHash ch = ConsistentHash.of(endpoints(5), BY_URI);
        RequestView r = uri("/x");
        Endpoint first = ch.pick(r, Set.of());
        Endpoint second = ch.pick(r, Set.of(first));
        assertThat(second).isNotEqualTo(first);
        assertThat(ch.pick(r, Set.of(first))).isEqualTo(second);
        Endpoint third = ch.pick(r, Set.of(first, second));
        assertThat(third).isNotIn(first, second);
        assertThat(ch.pick(r, new HashSet<>(endpoints(5)))).isEqualTo(first);
    }

    @Test
    void hashesByClientAddress() {
        ConsistentHash ch = ConsistentHash.of(endpoints(5), HashKeyExpression.compile("$binary_remote_addr"));
        RequestView a = SimpleRequestView.builder().remoteAddress("192.168.0.7").requestUri("/1").build();
        RequestView b = SimpleRequestView.builder().remoteAddress("192.168.0.7").requestUri("/2").build();
        assertThat(ch.pick(a, Set.of())).isEqualTo(ch.pick(b, Set.of()));
    }

    @Test
    void emptyBackendPicksNothing() {
        assertThat(ConsistentHash.of(List.of(), BY_URI).pick(uri("/"), Set.of())).isNull();
        assertThat(ConsistentHashSubset.of(List.of(), BY_URI, 3).pick(uri("/"), Set.of())).isNull();
    }

    @Test
    void subsetSpreadsOneKeyOverExactlyThreeEndpoints() {
        ConsistentHashSubset cs = ConsistentHashSubset.of(endpoints(9), BY_URI, 3, seeded(11));
        Set<Endpoint> seen = new HashSet<>();
        for (int i = 0; i < 300; i++) {
            seen.add(cs.pick(uri("/hot"), Set.of()));
        }
        assertThat(seen).hasSize(3);
        List<Endpoint> group = new ArrayList<>(seen);
        group.sort(ConsistentHash.CANONICAL);
        assertThat(cs.subsets()).contains(List.copyOf(group));
    }

    @Test
    void subsetKeysUseEveryGroup() {
        ConsistentHashSubset cs = ConsistentHashSubset.of(endpoints(9), BY_URI, 3, seeded(11));
        Set<Endpoint> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            seen.add(cs.pick(uri("/k/" + i), Set.of()));
        }
        assertThat(seen).hasSize(9);
    }

    @Test
    void subsetsAreChunksOfTheCanonicalOrderPaddedFromTheStart() {
        List<Endpoint> eps = endpoints(4);
        ConsistentHashSubset cs = ConsistentHashSubset.of(eps, BY_URI, 3);
        assertThat(cs.subsets()).containsExactly(
                List.of(eps.get(0), eps.get(1), eps.get(2)),
                List.of(eps.get(3), eps.get(0), eps.get(1)));
    }

    @Test
    void subsetRetryStaysInTheGroupThenLeavesIt() {
        ConsistentHashSubset cs = ConsistentHashSubset.of(endpoints(9), BY_URI, 3, seeded(11));
        RequestView r = uri("/hot");
        List<Endpoint> group = cs.subsets().stream()
                .filter(s -> s.contains(cs.pick(r, Set.of()))).findFirst().orElseThrow();
        for (int i = 0; i < 50; i++) {
            assertThat(cs.pick(r, Set.of(group.get(0)))).isIn(group.get(1), group.get(2));
            assertThat(cs.pick(r, Set.of(group.get(0), group.get(1)))).isEqualTo(group.get(2));
            assertThat(cs.pick(r, new HashSet<>(group))).isNotIn(group);
        }
    }

    private static java.util.function.Supplier<SplittableRandom> seeded(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        return () -> rnd;
    }
}
