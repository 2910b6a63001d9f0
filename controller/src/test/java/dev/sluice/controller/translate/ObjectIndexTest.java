package dev.sluice.controller.translate;

import static dev.sluice.controller.testing.Fixtures.endpoints;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * An index made from the last one (reusing what sits at the same place) is the index a fresh
 * start makes of the same snapshot, whatever happened in between: slices replaced, added,
 * removed, reordered, moved to another Service or without a Service label; Services and
 * Endpoints replaced. And a Service it does not name as changed has the very same objects as in
 * the index it was made from.
 */
class ObjectIndexTest {
    private static final int SERVICES = 6;

    @Test
    void anIndexMadeFromTheLastOneEqualsAFreshOne() {
        Random random = new Random(4);
        List<Service> services = new ArrayList<>();
        List<EndpointSlice> slices = new ArrayList<>();
        List<Endpoints> legacy = new ArrayList<>();
        for (int s = 0; s < SERVICES; s++) {
            services.add(service("ns", "svc-" + s, 80));
            slices.add(slice("ns", "svc-" + s + "-a", "svc-" + s, 8080, "10.0." + s + ".1"));
        }
        legacy.add(endpoints("ns", "svc-0", 8080, List.of("10.1.0.1"), List.of()));
        ObjectIndex index = ObjectIndex.EMPTY;
        int reusedSteps = 0;
        int knownChanges = 0;
        for (int step = 0; step < 500; step++) {
            int s = random.nextInt(SERVICES);
            int at = slices.isEmpty() ? 0 : random.nextInt(slices.size());
            switch (random.nextInt(8)) {
                case 0 -> slices.add(at, slice("ns", "svc-" + s + "-" + step, "svc-" + s, 8080, "10.2.0." + s));
                case 1 -> {
                    if (!slices.isEmpty()) {
                        slices.remove(at);
                    }
                }
                case 2 -> Collections.shuffle(slices, random);
                case 3 -> {
                    if (!slices.isEmpty()) { // the same slice now belongs to no Service
                        EndpointSlice unlabelled = slice("ns", "orphan-" + step, "x", 8080, "10.3.0.1");
                        unlabelled.getMetadata().setLabels(null);
                        slices.set(at, unlabelled);
                    }
                }
                case 4 -> services.set(s, service("ns", "svc-" + s, 81));
                case 5 -> legacy.set(0, endpoints("ns", "svc-0", 8080, List.of("10.1.0." + step % 250), List.of()));
                default -> {
                    if (!slices.isEmpty()) { // replaced in place, maybe moved to another Service
                        slices.set(at, slice("ns", "svc-" + s + "-" + step, "svc-" + s, 8080, "10.4.0." + s));
                        reusedSteps++;
                    }
                }
            }
            ClusterState state = new ClusterState(List.of(), List.of(), services, slices, legacy, List.of(),
                    List.of());
            ObjectIndex next = ObjectIndex.of(state, index);
            ObjectIndex fresh = ObjectIndex.of(state, ObjectIndex.EMPTY);
            for (int k = 0; k < SERVICES; k++) {
                String key = "ns/svc-" + k;
                assertThat(next.service(key)).as("step %d %s", step, key).isSameAs(fresh.service(key));
                assertThat(next.endpoints(key)).as("step %d %s", step, key).isSameAs(fresh.endpoints(key));
                List<EndpointSlice> expected = fresh.slices(key);
                List<EndpointSlice> actual = next.slices(key);
                if (expected == null) {
                    assertThat(actual).as("step %d %s", step, key).isNull();
                } else {
                    assertThat(actual).as("step %d %s", step, key).isNotNull();
                    assertThat(TranslationMemo.sameInstances(actual, expected)).as("step %d %s: %s vs %s", step, key,
                            actual, expected).isTrue();
                }
            }
            assertThat(next.slices("ns/x")).isNull();
            if (next.changedServices() != null) {
                knownChanges++;
                for (int k = 0; k < SERVICES; k++) {
                    String key = "ns/svc-" + k;
                    if (!next.changedServices().contains(key)) {
                        assertThat(next.service(key)).as("step %d %s unchanged", step, key).isSameAs(index.service(key));
                        assertThat(next.endpoints(key)).as("step %d %s unchanged", step, key)
                                .isSameAs(index.endpoints(key));
                        assertThat(TranslationMemo.sameInstances(next.slices(key), index.slices(key)))
                                .as("step %d %s unchanged", step, key).isTrue();
                    }
                }
            }
            index = next;
        }
        assertThat(reusedSteps).as("steps that replaced a slice in place (the reuse path)").isGreaterThan(100);
        assertThat(knownChanges).as("steps that knew which Services changed").isGreaterThan(100);
    }
}
