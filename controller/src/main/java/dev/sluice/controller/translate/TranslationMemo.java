package dev.sluice.controller.translate;

import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.route.PathMatcher;
import dev.sluice.gateway.route.Rewrite;
import dev.sluice.gateway.route.RouteTable;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.time.Instant;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one translation worked out per object, for the next translation to reuse where the object
 * and every input that work read are the very same. Every change still rebuilds the whole table
 * (DESIGN.md); this only saves the pure per-object work whose inputs did not change, so a rebuild
 * after an EndpointSlice change redoes the backend resolution of that Service and reuses the rest.
 *
 * <p>Objects are compared by identity, never by content: the sources hand over the same instance
 * for an object that did not change (informer caches; manifest files that did not change keep
 * their parsed objects) and never mutate one, so the same instance means the same content. An
 * equal copy is only a miss. Each memo holds exactly what the last translation used, so it is
 * bounded by the cluster and drops what was deleted.
 *
 * <p>Immutable once built; a translation reads the last memo and builds the next one, so
 * concurrent translations (the admission webhook's) at worst miss.
 *
 * @param secrets     the Secrets the annotations were parsed against
 * @param configMaps  the ConfigMaps the annotations were parsed against (global settings,
 *                    {@code custom-headers})
 * @param annotations per Ingress instance: its annotations as completed by the translator and the
 *                    problems found, valid while {@code secrets} and {@code configMaps} are the
 *                    same instances in the same order
 * @param objects     the last snapshot's Services, EndpointSlices and Endpoints by name
 * @param backends    per backend (resolver cache key): the resolution and the objects it read
 * @param firstPorts  the first-port backends ({@code default-backend}, {@code --default-backend-service})
 *                    by {@code namespace/name}
 * @param regexes     compiled regex locations by path (a pure function of the string)
 * @param rewrites    compiled {@code rewrite-target}s by path and target (pure as well)
 * @param last        the translation these were worked out for, or {@code null} (none yet)
 */
record TranslationMemo(List<Secret> secrets, List<ConfigMap> configMaps,
        Map<Ingress, Annotated> annotations, ObjectIndex objects, Map<String, BackendResolver.Remembered> backends,
        Map<String, Backend> firstPorts, Map<String, PathMatcher.Regex> regexes, Map<RewriteKey, Rewrite> rewrites,
        Last last) {

    static final TranslationMemo EMPTY = new TranslationMemo(List.of(), List.of(), new IdentityHashMap<>(),
            ObjectIndex.EMPTY, Map.of(), Map.of(), Map.of(), Map.of(), null);

    /**
     * A translation, the time it was for, until when its certificates' validity (the only thing
     * the time decides) stays as it was then, and where in its table each backend is used
     * ({@code null} until an {@link EndpointRefresh} needed it; the same for every table with
     * that configuration).
     */
    record Last(Translation translation, Instant translatedFor, Instant validityUnchangedUntil,
            Map<String, RouteTable.Places> places) {}

    /** This memo with the backends and the translation of an endpoint refresh ({@link EndpointRefresh}). */
    TranslationMemo refreshed(ObjectIndex newObjects, Map<String, BackendResolver.Remembered> newBackends,
            Map<String, Backend> newFirstPorts, Last newLast) {
        return new TranslationMemo(secrets, configMaps, annotations, newObjects, newBackends, newFirstPorts, regexes,
                rewrites, newLast);
    }

    /** The annotations of one Ingress after the translator completed them, and what was wrong with them. */
    record Annotated(IngressAnnotations annotations, List<String> problems) {
        Annotated {
            problems = List.copyOf(problems);
        }
    }

    /** A {@code rewrite-target} compiled for one location path. */
    record RewriteKey(String path, String target) {}

    /** Whether the annotations remembered here were parsed against these Secrets and ConfigMaps. */
    boolean annotationsValidFor(ClusterState state) {
        return sameInstances(secrets, state.secrets()) && sameInstances(configMaps, state.configMaps());
    }

    /** Whether both lists hold the very same objects in the same order ({@code null} only equals {@code null}). */
    static boolean sameInstances(List<?> a, List<?> b) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null || a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) != b.get(i)) {
                return false;
            }
        }
        return true;
    }
}
