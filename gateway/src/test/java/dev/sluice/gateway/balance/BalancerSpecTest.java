package dev.sluice.gateway.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.request.SimpleRequestView;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** SPEC §6.2: which balancer an upstream gets. */
class BalancerSpecTest {
    static final List<Endpoint> EPS = ConsistentHashTest.endpoints(3);

    @Test
    void roundRobinIsTheDefault() {
        assertThat(BalancerSpec.DEFAULT.create("ns-svc-80", EPS)).isInstanceOf(RoundRobin.class);
        assertThat(BalancerSpec.Algorithm.parse("round_robin")).isEqualTo(BalancerSpec.Algorithm.ROUND_ROBIN);
        assertThat(BalancerSpec.Algorithm.parse("least_conn")).isEqualTo(BalancerSpec.Algorithm.ROUND_ROBIN);
        assertThat(BalancerSpec.Algorithm.parse(null)).isEqualTo(BalancerSpec.Algorithm.ROUND_ROBIN);
    }

    @Test
    void ewma() {
        assertThat(BalancerSpec.Algorithm.parse("ewma")).isEqualTo(BalancerSpec.Algorithm.EWMA);
        assertThat(BalancerSpec.of(BalancerSpec.Algorithm.EWMA).create("ns-svc-80", EPS)).isInstanceOf(Ewma.class);
    }

    @Test
    void hashByBeatsTheAlgorithm() {
        BalancerSpec spec = BalancerSpec.hashBy("$request_uri").withAlgorithm(BalancerSpec.Algorithm.EWMA);
        assertThat(spec.kind()).isEqualTo(BalancerSpec.Kind.CONSISTENT_HASH);
        assertThat(spec.create("ns-svc-80", EPS)).isInstanceOf(ConsistentHash.class);
        BalancerSpec subset = BalancerSpec.hashBySubset("$request_uri", 2);
        ConsistentHashSubset lb = (ConsistentHashSubset) subset.create("ns-svc-80", EPS);
        assertThat(lb.subsetSize()).isEqualTo(2);
    }

    @Test
    void affinityBeatsHashBy() {
        BalancerSpec spec = BalancerSpec.hashBy("$request_uri").withAffinity(AffinityConfig.defaults());
        assertThat(spec.kind()).isEqualTo(BalancerSpec.Kind.COOKIE_AFFINITY);
        CookieAffinity lb = (CookieAffinity) spec.create("ns-svc-80", EPS);
        assertThat(lb.backendName()).isEqualTo("ns-svc-80");
    }

    @Test
    void canarySpecTakesTheMainlineAffinityUnlessLegacy() {
        AffinityConfig mainAffinity = AffinityConfig.builder().cookieName("sticky").build();
        BalancerSpec main = BalancerSpec.cookieAffinity(mainAffinity);
        BalancerSpec canaryOwn = BalancerSpec.hashBy("$remote_addr")
                .withAffinity(AffinityConfig.builder().cookieName("own").build());
        assertThat(canaryOwn.forCanaryOf(main, AffinityCanaryBehavior.STICKY).affinity()).isEqualTo(mainAffinity);
        assertThat(canaryOwn.forCanaryOf(main, AffinityCanaryBehavior.LEGACY).affinity()).isNull();
        assertThat(canaryOwn.forCanaryOf(main, AffinityCanaryBehavior.LEGACY).kind()).isEqualTo(BalancerSpec.Kind.CONSISTENT_HASH);
        assertThat(canaryOwn.forCanaryOf(BalancerSpec.DEFAULT, AffinityCanaryBehavior.STICKY).affinity()).isNull();
        assertThat(AffinityCanaryBehavior.parse("legacy")).isEqualTo(AffinityCanaryBehavior.LEGACY);
        assertThat(AffinityCanaryBehavior.parse("sticky")).isEqualTo(AffinityCanaryBehavior.STICKY);
        assertThat(AffinityCanaryBehavior.parse(null)).isEqualTo(AffinityCanaryBehavior.STICKY);
    }

    @Test
    void invalidHashByIsRejectedAtBuildTime() {
        assertThatThrownBy(() -> BalancerSpec.hashBy("$no_such_variable")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BalancerSpec.hashBySubset("$request_uri", 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void affinityAnnotationValues() {
        assertThat(AffinityConfig.Mode.parse("persistent")).isEqualTo(AffinityConfig.Mode.PERSISTENT);
        assertThat(AffinityConfig.Mode.parse("balanced")).isEqualTo(AffinityConfig.Mode.BALANCED);
        assertThat(AffinityConfig.Mode.parse(null)).isEqualTo(AffinityConfig.Mode.BALANCED);
        assertThat(AffinityConfig.SameSite.parse("None")).isEqualTo(AffinityConfig.SameSite.NONE);
        assertThat(AffinityConfig.SameSite.parse("lax")).isEqualTo(AffinityConfig.SameSite.LAX);
        assertThat(AffinityConfig.SameSite.parse("STRICT")).isEqualTo(AffinityConfig.SameSite.STRICT);
        assertThat(AffinityConfig.SameSite.parse("sometimes")).isNull();
        assertThat(AffinityConfig.builder().cookieName("").build().cookieName()).isEqualTo("INGRESSCOOKIE");
    }

    @Test
    void upstreamEqualityIgnoresBalancerState() {
        Backend b = Backend.of("ns-svc-80", EPS);
        Upstream one = Upstream.of(b, BalancerSpec.DEFAULT);
        Upstream two = Upstream.of(Backend.of("ns-svc-80", EPS), BalancerSpec.DEFAULT);
        one.balancer().pick(SimpleRequestView.empty(), Set.of());
        assertThat(one).isEqualTo(two).hasSameHashCodeAs(two);
        assertThat(one).isNotEqualTo(Upstream.of(b, BalancerSpec.of(BalancerSpec.Algorithm.EWMA)));
    }

    @Test
    void rebuiltUpstreamContinuesTheRotation() {
        Backend b = Backend.of("ns-svc-80", EPS);
        Upstream old = Upstream.of(b, BalancerSpec.DEFAULT);
        Endpoint last = old.balancer().pick(SimpleRequestView.empty(), Set.of());
        Upstream rebuilt = Upstream.of(b, BalancerSpec.DEFAULT, old);
        Endpoint next = rebuilt.balancer().pick(SimpleRequestView.empty(), Set.of());
        assertThat(next).isEqualTo(EPS.get((EPS.indexOf(last) + 1) % EPS.size()));
    }
}
