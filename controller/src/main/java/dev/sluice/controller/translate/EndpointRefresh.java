package dev.sluice.controller.translate;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.balance.Upstream;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.stream.StreamTable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The translation of a snapshot whose configuration is the last translation's: only
 * EndpointSlices and Endpoints are other objects, and every backend still has the same problem,
 * warning and emptiness. Then the whole translation is the last one with the backends' endpoints
 * resolved again — which is what {@link IngressTranslator} would compute from scratch, at a cost
 * in proportion to the Services instead of the Ingresses.
 *
 * <p>This is still a level-triggered rebuild from the current objects (DESIGN.md): every backend
 * the last translation looked up is resolved again against the snapshot's EndpointSlices and
 * Endpoints (reusing a resolution only when the objects it read are the very same instances, as
 * a full translation does), nothing is applied as a delta, and what comes out equals a full
 * translation of the same snapshot at the same time ({@code EndpointRefreshTest} checks that
 * against a fresh translator, change after change). The reasoning is {@link ConfigurationKey}'s:
 * with the same other objects and equal backend facts, the table differs at most in endpoint
 * addresses, and the problems and notes are the same. When that cannot be shown — some other
 * object changed, a backend's facts changed (say a Service lost its last endpoint), an SSL
 * passthrough host's endpoints changed, or a certificate crossed its validity dates — there is
 * no refresh and the caller translates in full.
 *
 * <p>Example: 10,000 Ingresses, one Pod of {@code team-7/web} replaced. The snapshot's
 * {@link ObjectIndex} names {@code team-7/web} as the only Service whose objects changed, so only
 * its backends are resolved again (the other ~10,000 resolutions are kept as they are); the
 * locations using {@code team-7-web-80} get a new {@link Upstream} with the new endpoints (one per
 * old upstream, as shared as before), only the hosts that use it are rebuilt
 * ({@link RouteTable#placesByBackend}), and the other hosts are the last table's own instances.
 * It costs 2–3 ms of CPU where a full translation costs ~55 ms.
 */
final class EndpointRefresh {
    private EndpointRefresh() {}

    /**
     * The memo after refreshing {@code memo}'s last translation for {@code state} at {@code now}, with
     * that translation as its {@link TranslationMemo#last()}; or {@code null} when the
     * configuration may have changed (then translate in full).
     */
    static TranslationMemo refresh(IngressTranslator translator, TranslatorConfig config, TranslationMemo memo,
            ClusterState state, Instant now) {
        TranslationMemo.Last previous = memo.last();
        ConfigurationKey key = previous == null ? null : previous.translation().configuration();
        if (key == null || !key.sameObjectsBesidesEndpoints(state)
                || now.isBefore(previous.translatedFor()) || !now.isBefore(previous.validityUnchangedUntil())) {
            return null;
        }
        ObjectIndex objects = ObjectIndex.of(state, memo.objects());
        BackendResolver backends = new BackendResolver(objects, config.disableSvcExternalName(), memo.backends());
        // every lookup of the last translation whose objects may have changed; the others read the same objects
        Set<String> changed = objects.changedServices();
        Map<Backend, Backend> replaced = new IdentityHashMap<>();
        for (Map.Entry<String, BackendResolver.Remembered> e : memo.backends().entrySet()) {
            if (changed != null && !changed.contains(e.getValue().serviceKey())) {
                continue;
            }
            Backend before = e.getValue().resolution().backend();
            Backend fresh = backends.resolveAgain(e.getKey(), e.getValue()).backend();
            if (!backends.remembered().get(e.getKey()).facts().equals(e.getValue().facts())) {
                return null; // a problem, warning or emptiness changed: so did the configuration
            }
            if (fresh != before) {
                replaced.put(before, fresh);
            }
        }
        // first-port backends are made anew by every resolver: an equal one keeps the table's instance, and the
        // memo must name the instances the table holds, or the next refresh would not find them
        Map<String, Backend> firstPorts = new HashMap<>();
        for (Map.Entry<String, Backend> e : memo.firstPorts().entrySet()) {
            String service = e.getKey();
            int slash = service.indexOf('/');
            Backend fresh = backends.firstPortBackend(service.substring(0, slash), service.substring(slash + 1));
            if (fresh == null || fresh.hasEndpoints() != e.getValue().hasEndpoints()) {
                return null; // emptiness changed (or, impossibly with the same Services, the port is gone)
            }
            if (fresh.equals(e.getValue())) {
                fresh = e.getValue();
            } else {
                replaced.put(e.getValue(), fresh);
            }
            firstPorts.put(service, fresh);
        }
        // the same problems and notes as the last translation's (their facts are the same): not collected again
        StreamTable streams = new StreamTranslator(config.streams(), backends, state.configMaps(), p -> {}, n -> {})
                .translate();
        if (!key.sameStreams(streams)) {
            return null;
        }
        RouteTable last = previous.translation().table();
        Map<String, RouteTable.Places> places = previous.places() != null ? previous.places() : last.placesByBackend();
        List<RouteTable.Places> touched = new ArrayList<>();
        for (Backend b : replaced.keySet()) {
            RouteTable.Places p = places.get(b.name());
            if (p != null) {
                touched.add(p);
            }
        }
        Map<Upstream, Upstream> rebound = new IdentityHashMap<>();
        RouteTable table = last.withUpstreams(RouteTable.Places.union(touched), u -> {
            Backend b = replaced.get(u.backend());
            // one new upstream per old one: locations that shared an upstream still share one
            return b == null ? u : rebound.computeIfAbsent(u, old -> Upstream.of(b, old.spec()));
        });
        if (table.tls() != last.tls()) {
            return null; // an SSL passthrough host's endpoints: part of the configuration's TLS
        }
        if (!streams.equals(table.streams())) {
            table = table.withStreams(streams);
        }
        Map<String, BackendResolver.Remembered> remembered = memo.backends();
        if (!backends.remembered().isEmpty()) {
            remembered = new HashMap<>(memo.backends());
            remembered.putAll(backends.remembered());
            remembered = Collections.unmodifiableMap(remembered);
        }
        Translation t = previous.translation();
        // the same facts, TLS and streams, and the same other objects: the key of the last translation holds
        Translation refreshed = table == last ? t : new Translation(table, t.problems(), t.notes(), t.awaitingObjects(),
                key);
        return memo.refreshed(objects, remembered, Map.copyOf(firstPorts),
                new TranslationMemo.Last(refreshed, now, previous.validityUnchangedUntil(), places));
    }
}
