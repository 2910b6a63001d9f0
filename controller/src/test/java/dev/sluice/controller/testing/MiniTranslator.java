package dev.sluice.controller.testing;

import dev.sluice.controller.translate.ClusterState;
import dev.sluice.controller.translate.IngressClassFilter;
import dev.sluice.controller.translate.Problem;
import dev.sluice.controller.translate.Translation;
import dev.sluice.controller.translate.TranslatorConfig;
import dev.sluice.gateway.route.Backend;
import dev.sluice.gateway.route.Endpoint;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.PathMatcher;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTable;
import io.fabric8.kubernetes.api.model.EndpointAddress;
import io.fabric8.kubernetes.api.model.EndpointSubset;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPath;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressRule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * A deliberately small translator for watcher tests, standing in for the real IngressTranslator
 * (written on another branch): class selection, one Prefix route per Ingress path, endpoints from
 * the Service's EndpointSlices (ready and not terminating), else from its Endpoints object, and a
 * problem for a missing Service. Enough to see that the table follows the cluster.
 */
public final class MiniTranslator implements Function<ClusterState, Translation> {
    private final TranslatorConfig config;

    public MiniTranslator(TranslatorConfig config) {
        this.config = config;
    }

    @Override
    public Translation apply(ClusterState state) {
        List<Problem> problems = new ArrayList<>();
        Map<String, List<Route>> byHost = new LinkedHashMap<>();
        for (Ingress ing : IngressClassFilter.served(state, config)) {
            String ns = ing.getMetadata().getNamespace();
            String source = ns + "/" + ing.getMetadata().getName();
            for (IngressRule rule : ing.getSpec().getRules()) {
                String host = rule.getHost() == null ? "" : rule.getHost();
                for (HTTPIngressPath p : rule.getHttp().getPaths()) {
                    String svc = p.getBackend().getService().getName();
                    int port = p.getBackend().getService().getPort().getNumber();
                    Backend backend = backend(state, ns, svc, port, ing, problems);
                    byHost.computeIfAbsent(host, h -> new ArrayList<>())
                            .add(new Route(new PathMatcher.Prefix(p.getPath()), source, backend, RouteOptions.DEFAULTS));
                }
            }
        }
        Map<String, HostRoutes> hosts = new LinkedHashMap<>();
        HostRoutes catchAll = HostRoutes.of("", List.of(), false, Route.notFound(), null);
        for (Map.Entry<String, List<Route>> e : byHost.entrySet()) {
            HostRoutes hr = HostRoutes.of(e.getKey(), e.getValue(), false, Route.notFound(), null);
            if (e.getKey().isEmpty()) {
                catchAll = hr;
            } else {
                hosts.put(e.getKey(), hr);
            }
        }
        return new Translation(new RouteTable(hosts, Map.of(), catchAll), problems);
    }

    private static Backend backend(ClusterState state, String ns, String svc, int port, Ingress ing, List<Problem> problems) {
        String name = ns + "-" + svc + "-" + port;
        Service service = state.services().stream()
                .filter(s -> ns.equals(s.getMetadata().getNamespace()) && svc.equals(s.getMetadata().getName()))
                .findFirst().orElse(null);
        if (service == null) {
            String msg = "service " + ns + "/" + svc + " not found";
            problems.add(new Problem("Ingress", ns, ing.getMetadata().getName(), msg));
            return Backend.unavailable(name, msg);
        }
        Set<Endpoint> eps = new LinkedHashSet<>();
        List<EndpointSlice> slices = state.endpointSlices().stream()
                .filter(s -> ns.equals(s.getMetadata().getNamespace())
                        && svc.equals(s.getMetadata().getLabels().get("kubernetes.io/service-name")))
                .toList();
        if (!slices.isEmpty()) {
            for (EndpointSlice s : slices) {
                int target = s.getPorts().get(0).getPort();
                for (var e : s.getEndpoints()) {
                    var c = e.getConditions();
                    boolean ready = c == null || !Boolean.FALSE.equals(c.getReady());
                    boolean terminating = c != null && Boolean.TRUE.equals(c.getTerminating());
                    if (ready && !terminating) {
                        e.getAddresses().forEach(ip -> eps.add(Endpoint.of(ip, target)));
                    }
                }
            }
        } else {
            state.endpoints().stream()
                    .filter(e -> ns.equals(e.getMetadata().getNamespace()) && svc.equals(e.getMetadata().getName()))
                    .map(Endpoints::getSubsets).filter(Objects::nonNull).flatMap(List::stream)
                    .forEach((EndpointSubset sub) -> {
                        int target = sub.getPorts().get(0).getPort();
                        for (EndpointAddress a : sub.getAddresses()) {
                            eps.add(Endpoint.of(a.getIp(), target));
                        }
                    });
        }
        List<Endpoint> sorted = new ArrayList<>(eps);
        sorted.sort(java.util.Comparator.comparing(Endpoint::toString));
        return Backend.of(name, sorted);
    }
}
