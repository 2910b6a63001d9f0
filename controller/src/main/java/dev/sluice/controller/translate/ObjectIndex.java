package dev.sluice.controller.translate;

import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A snapshot's Services, EndpointSlices (by the Service they belong to) and Endpoints, by
 * {@code namespace/name}: what {@link BackendResolver} looks backends up in.
 *
 * <p>Made for every translation from the whole snapshot, reusing the last index's work where the
 * snapshot holds the very same objects: the Service and Endpoints maps whole when their lists are
 * the same instances, and for EndpointSlices the Service key of every slice that sits at the same
 * place as last time, so only the Services whose slices changed get their lists built again. The
 * result is always the index of {@code state} alone; what was reused only saves time.
 *
 * <p>Immutable once made: the maps and lists are never changed, so an index may be shared by
 * translations.
 */
final class ObjectIndex {
    static final ObjectIndex EMPTY = new ObjectIndex(List.of(), Map.of(), List.of(), new String[0], Map.of(), List.of(),
            Map.of(), null);

    private final List<Service> serviceList;
    private final Map<String, Service> services;
    private final List<EndpointSlice> sliceList;
    /** The Service key of the slice at each place of {@link #sliceList}, or {@code null} for a slice without one. */
    private final String[] sliceKeys;
    private final Map<String, List<EndpointSlice>> slicesByService;
    private final List<Endpoints> endpointsList;
    private final Map<String, Endpoints> endpoints;
    /** The Services whose Service, slices or Endpoints may be other objects than the previous index's; {@code null}: any. */
    private final Set<String> changedServices;

    private ObjectIndex(List<Service> serviceList, Map<String, Service> services, List<EndpointSlice> sliceList,
            String[] sliceKeys, Map<String, List<EndpointSlice>> slicesByService, List<Endpoints> endpointsList,
            Map<String, Endpoints> endpoints, Set<String> changedServices) {
        this.serviceList = serviceList;
        this.services = services;
        this.sliceList = sliceList;
        this.sliceKeys = sliceKeys;
        this.slicesByService = slicesByService;
        this.endpointsList = endpointsList;
        this.endpoints = endpoints;
        this.changedServices = changedServices;
    }

    /** The index of {@code state}, reusing what {@code previous} (an index of an earlier snapshot) worked out for the same objects. */
    static ObjectIndex of(ClusterState state, ObjectIndex previous) {
        List<Service> serviceList = List.copyOf(state.services());
        Map<String, Service> services = previous.services;
        boolean sameServicesAndEndpoints = TranslationMemo.sameInstances(previous.serviceList, serviceList);
        if (!sameServicesAndEndpoints) {
            services = new HashMap<>();
            for (Service s : serviceList) {
                services.put(BackendResolver.key(s), s);
            }
        }
        List<Endpoints> endpointsList = List.copyOf(state.endpoints());
        Map<String, Endpoints> endpoints = previous.endpoints;
        if (!TranslationMemo.sameInstances(previous.endpointsList, endpointsList)) {
            sameServicesAndEndpoints = false;
            endpoints = new HashMap<>();
            for (Endpoints e : endpointsList) {
                endpoints.put(BackendResolver.key(e), e);
            }
        }
        List<EndpointSlice> sliceList = List.copyOf(state.endpointSlices());
        String[] sliceKeys = new String[sliceList.size()];
        Map<String, List<EndpointSlice>> slicesByService;
        Set<String> changed = null;
        if (sliceList.size() == previous.sliceList.size()) {
            // same places: only the Services of slices that are other objects get their lists again
            changed = new HashSet<>();
            for (int i = 0; i < sliceKeys.length; i++) {
                EndpointSlice s = sliceList.get(i);
                if (s == previous.sliceList.get(i)) {
                    sliceKeys[i] = previous.sliceKeys[i];
                } else {
                    sliceKeys[i] = serviceKey(s);
                    addIfNotNull(changed, previous.sliceKeys[i]);
                    addIfNotNull(changed, sliceKeys[i]);
                }
            }
            if (changed.isEmpty()) {
                slicesByService = previous.slicesByService;
            } else {
                slicesByService = new HashMap<>(previous.slicesByService);
                slicesByService.keySet().removeAll(changed);
                collect(sliceList, sliceKeys, changed, slicesByService);
            }
        } else {
            for (int i = 0; i < sliceKeys.length; i++) {
                sliceKeys[i] = serviceKey(sliceList.get(i));
            }
            slicesByService = new HashMap<>();
            collect(sliceList, sliceKeys, null, slicesByService);
        }
        return new ObjectIndex(serviceList, Collections.unmodifiableMap(services), sliceList, sliceKeys,
                Collections.unmodifiableMap(slicesByService), endpointsList, Collections.unmodifiableMap(endpoints),
                sameServicesAndEndpoints && changed != null ? Collections.unmodifiableSet(changed) : null);
    }

    /** Adds the slices of the Services in {@code only} (all when {@code null}) to {@code out}, in snapshot order. */
    private static void collect(List<EndpointSlice> slices, String[] keys, Set<String> only,
            Map<String, List<EndpointSlice>> out) {
        Map<String, List<EndpointSlice>> lists = new HashMap<>();
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != null && (only == null || only.contains(keys[i]))) {
                lists.computeIfAbsent(keys[i], k -> new ArrayList<>()).add(slices.get(i));
            }
        }
        lists.forEach((k, v) -> out.put(k, List.copyOf(v)));
    }

    private static void addIfNotNull(Set<String> set, String s) {
        if (s != null) {
            set.add(s);
        }
    }

    /** {@code namespace/service} of the Service a slice belongs to, or {@code null} without the label. */
    private static String serviceKey(EndpointSlice slice) {
        Map<String, String> labels = slice.getMetadata() == null ? null : slice.getMetadata().getLabels();
        String svc = labels == null ? null : labels.get(BackendResolver.SERVICE_NAME_LABEL);
        return svc == null ? null : BackendResolver.namespace(slice) + "/" + svc;
    }

    /**
     * The {@code namespace/name} of every Service whose Service object, EndpointSlices or
     * Endpoints may differ from those of the index this one was made from; {@code null} when that
     * is not known (then any may). Every other Service has the very same objects in both.
     */
    Set<String> changedServices() {
        return changedServices;
    }

    Service service(String key) {
        return services.get(key);
    }

    /** The slices of Service {@code key} in snapshot order, or {@code null} when it has none. */
    List<EndpointSlice> slices(String key) {
        return slicesByService.get(key);
    }

    Endpoints endpoints(String key) {
        return endpoints.get(key);
    }
}
