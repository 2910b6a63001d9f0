package dev.sluice.gateway.route;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.balance.Ewma;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.request.RequestView;
import dev.sluice.gateway.request.SimpleRequestView;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.balance.BalancerSpec;
import dev.sluice.gateway.balance.TrafficSplit;
import dev.sluice.gateway.balance.Upstream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Publishing binds the live balancers and continues the running ones: a rebuilt table does not
 * restart the rotation of backends it did not change (issue 8).
 */
class RouteTableHolderTest {
    static final Endpoint A = Endpoint.of("127.0.0.1", 80);
    static final Endpoint B = Endpoint.of("127.0.0.2", 80);
    static final Endpoint C = Endpoint.of("127.0.0.3", 80);
    static final Endpoint D = Endpoint.of("127.0.0.4", 80);
    static final RequestView REQ = SimpleRequestView.empty();

    /** A fresh table (new instances, as every rebuild makes) routing / of web.test to {@code endpoints}. */
    static RouteTable table(BalancerSpec spec, Endpoint... endpoints) {
        Upstream web = Upstream.of(Backend.of("default-web-80", List.of(endpoints)), spec);
        Route route = new Route(new PathMatcher.Prefix("/"), "default/web", TrafficSplit.of(web), RouteOptions.DEFAULTS,
                null);
        return new RouteTable(Map.of("web.test", HostRoutes.of("web.test", List.of(route), false, Route.notFound(),
                null)), Map.of(), HostRoutes.of("", List.of(), false, Route.notFound(), null));
    }

    static Endpoint pick(RouteTableHolder holder) {
        RoutingDecision.Forward f = (RoutingDecision.Forward) holder.current().decide("web.test", "/", "http", REQ);
        return f.upstream().balancer().pick(REQ, Set.of());
    }

    @Test
    void anEqualRebuiltTableKeepsTheVeryBalancer() {
        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(table(BalancerSpec.DEFAULT, A, B, C));
        List<Endpoint> seen = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            seen.add(pick(holder));
            holder.publish(table(BalancerSpec.DEFAULT, A, B, C)); // an unrelated change elsewhere
        }
        // strict rotation across 30 rebuilds: every window of three is A, B, C in some order
        for (int i = 0; i + 3 <= seen.size(); i += 3) {
            assertThat(seen.subList(i, i + 3)).containsExactlyInAnyOrder(A, B, C);
        }
        for (int i = 1; i < seen.size(); i++) {
            assertThat(seen.get(i)).isNotEqualTo(seen.get(i - 1));
        }
    }

    @Test
    void configurationListenersRunUnlessThePublisherSaysOnlyEndpointsChanged() {
        RouteTableHolder holder = new RouteTableHolder();
        List<String> runs = new ArrayList<>();
        holder.beforePublish(t -> runs.add("table " + pick(t)));
        holder.beforeConfigurationChange(t -> runs.add("configuration " + pick(t)));

        holder.publish(table(BalancerSpec.DEFAULT, A), true); // the first table: nothing to be the same as
        holder.publish(table(BalancerSpec.DEFAULT, B), true);
        holder.publish(table(BalancerSpec.DEFAULT, C), false);
        holder.publish(table(BalancerSpec.DEFAULT, D));

        assertThat(runs).containsExactly("table " + A, "configuration " + A, "table " + B,
                "table " + C, "configuration " + C, "table " + D, "configuration " + D);
        assertThat(holder.generation()).isEqualTo(4);
    }

    private static Endpoint pick(RouteTable t) {
        RoutingDecision.Forward f = (RoutingDecision.Forward) t.decide("web.test", "/", "http", REQ);
        return f.upstream().balancer().pick(REQ, Set.of());
    }

    @Test
    void changedEndpointsKeepTheRoundRobinPosition() {
        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(table(BalancerSpec.DEFAULT, A, B, C));
        Endpoint first = pick(holder);
        int position = List.of(A, B, C).indexOf(first);
        holder.publish(table(BalancerSpec.DEFAULT, A, B, C, D));
        // the cursor moved one past `first`, and continues over the new list from there
        assertThat(pick(holder)).isEqualTo(List.of(A, B, C, D).get((position + 1) % 4));
    }

    @Test
    void theBalancerIsBoundAtPublishNotByTheTranslator() {
        RouteTable t = table(BalancerSpec.DEFAULT, A, B);
        Upstream[] seen = new Upstream[1];
        t.forEachUpstream(u -> seen[0] = u);
        RouteTableHolder holder = new RouteTableHolder();
        holder.publish(t);
        RouteTable rebuilt = table(BalancerSpec.DEFAULT, A, B);
        holder.publish(rebuilt);
        Upstream[] now = new Upstream[1];
        rebuilt.forEachUpstream(u -> now[0] = u);
        assertThat(now[0]).isNotSameAs(seen[0]).isEqualTo(seen[0]);
        assertThat(now[0].balancer()).isSameAs(seen[0].balancer());
    }

    @Test
    void aChangedAlgorithmStartsANewBalancer() {
        RouteTableHolder holder = new RouteTableHolder();
        RouteTable rr = table(BalancerSpec.DEFAULT, A, B);
        holder.publish(rr);
        RouteTable ewma = table(BalancerSpec.of(BalancerSpec.Algorithm.EWMA), A, B);
        holder.publish(ewma);
        Upstream[] before = new Upstream[1];
        Upstream[] after = new Upstream[1];
        rr.forEachUpstream(u -> before[0] = u);
        ewma.forEachUpstream(u -> after[0] = u);
        assertThat(after[0].balancer()).isNotSameAs(before[0].balancer());
        assertThat(after[0].balancer().getClass().getSimpleName()).isEqualTo("Ewma");
    }

    @Test
    void aTableThatIsNeverPublishedStillBalances() {
        RouteTable t = table(BalancerSpec.DEFAULT, A, B);
        RoutingDecision.Forward f = (RoutingDecision.Forward) t.decide("web.test", "/", "http", REQ);
        assertThat(f.upstream().balancer().pick(REQ, Set.of())).isIn(A, B);
    }
}
