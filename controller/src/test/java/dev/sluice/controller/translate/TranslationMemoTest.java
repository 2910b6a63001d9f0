package dev.sluice.controller.translate;

import static dev.sluice.controller.testing.Fixtures.ingressClass;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.admin.RoutesJson;
import dev.sluice.gateway.proxy.TestCertificates;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPath;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPathBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.api.model.networking.v1.IngressTLSBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A translator that reuses the last translation's per-object work ({@link TranslationMemo})
 * gives, after every kind of change, exactly what a fresh translator gives for the same objects;
 * and its {@link ConfigurationKey} stays equal only when nothing but endpoint addresses changed.
 * Objects are replaced, never mutated, as the sources do.
 */
class TranslationMemoTest {
    private static final String P = "nginx.ingress.kubernetes.io/";
    private static final String GLOBAL = "ingress-nginx/ingress-nginx-controller";
    private static final TranslatorConfig CONFIG = new TranslatorConfig("nginx", "k8s.io/ingress-nginx", false,
            "ingress-nginx/fallback", "nginx.ingress.kubernetes.io").withGlobalConfigMap(GLOBAL);
    /** Within the test certificates' validity; one instant for every translation. */
    private static final Instant NOW = Instant.now().plusSeconds(3600);
    private static final int INGRESSES = 40;

    /** One cluster state, changed step by step: each step replaces the objects it changes. */
    private static final class Fleet {
        List<Ingress> ingresses = new ArrayList<>();
        List<IngressClass> classes = new ArrayList<>(List.of(ingressClass("nginx", "k8s.io/ingress-nginx"),
                ingressClass("other", "k8s.io/ingress-nginx")));
        List<Service> services = new ArrayList<>();
        List<EndpointSlice> slices = new ArrayList<>();
        List<Secret> secrets = new ArrayList<>();
        List<ConfigMap> configMaps = new ArrayList<>();

        Fleet() {
            for (int i = 0; i < INGRESSES; i++) {
                ingresses.add(ingress(i, "/api"));
            }
            for (int i = 0; i < INGRESSES; i++) {
                // Ingress i names svc-i and svc-(i+1) in its own namespace
                String ns = ns(i);
                for (int s : new int[] {i, i + 1}) {
                    String name = "svc-" + s;
                    if (services.stream().noneMatch(x -> same(x, ns, name))) {
                        services.add(service(ns, name, 80));
                        slices.add(slice(ns, name + "-a", name, 8080, "10.0." + s + ".1", "10.0." + s + ".2"));
                    }
                }
            }
            services.add(service("ingress-nginx", "fallback", 80));
            slices.add(slice("ingress-nginx", "fallback-a", "fallback", 8080, "10.9.0.1"));
            for (int n = 0; n < 4; n++) {
                secrets.add(tls(ns(n), "tls", TestCertificates.issue("*.test", "*.test")));
            }
            configMaps.add(configMap(GLOBAL, Map.of("proxy-body-size", "8m", "load-balance", "round_robin")));
            for (int n = 0; n < 4; n++) {
                configMaps.add(configMap(ns(n) + "/headers", Map.of("X-Team", "team-" + n)));
            }
        }

        ClusterState state() {
            return new ClusterState(ingresses, classes, services, slices, List.of(), secrets, configMaps);
        }

        void replaceSlice(EndpointSlice replacement) {
            slices.replaceAll(s -> same(s, replacement.getMetadata().getNamespace(),
                    replacement.getMetadata().getName()) ? replacement : s);
        }

        void replaceService(Service replacement) {
            services.replaceAll(s -> same(s, replacement.getMetadata().getNamespace(),
                    replacement.getMetadata().getName()) ? replacement : s);
        }

        private static boolean same(io.fabric8.kubernetes.api.model.HasMetadata o, String ns, String name) {
            return o.getMetadata().getNamespace().equals(ns) && o.getMetadata().getName().equals(name);
        }
    }

    private static String ns(int i) {
        return "ns-" + (i % 4);
    }

    /**
     * Ingress {@code i}: host {@code h-i.test}, {@code path} and Exact {@code /health} to
     * {@code svc-i}, {@code svc-(i+1)}; every 5th with regex and {@code rewrite-target}, every
     * 4th with TLS, every 7th with {@code custom-headers}, every 6th of class {@code other},
     * every 3rd with its own {@code proxy-read-timeout}, the others' from the global ConfigMap
     * ({@code proxy-body-size} and {@code load-balance} for all).
     */
    private static Ingress ingress(int i, String path) {
        Map<String, String> annotations = new HashMap<>();
        if (i % 5 == 0) {
            annotations.put(P + "use-regex", "true");
            annotations.put(P + "rewrite-target", "/$1");
        }
        if (i % 7 == 0) {
            annotations.put(P + "custom-headers", ns(i) + "/headers");
        }
        if (i % 3 == 0) {
            annotations.put(P + "proxy-read-timeout", "30");
        }
        List<HTTPIngressPath> paths = List.of(
                path(i % 5 == 0 ? path + "/(.*)" : path, "Prefix", "svc-" + i),
                path("/health", "Exact", "svc-" + (i + 1)));
        IngressBuilder b = new IngressBuilder()
                .withNewMetadata().withNamespace(ns(i)).withName("ing-" + i)
                .withCreationTimestamp(Instant.ofEpochSecond(1_700_000_000L + i).toString())
                .withAnnotations(annotations).endMetadata()
                .withNewSpec().withIngressClassName(i % 6 == 0 ? "other" : "nginx")
                .addNewRule().withHost("h-" + i + ".test").withNewHttp().withPaths(paths).endHttp().endRule()
                .endSpec();
        Ingress ing = b.build();
        if (i % 4 == 0) {
            ing.getSpec().setTls(List.of(new IngressTLSBuilder().withHosts("h-" + i + ".test").withSecretName("tls")
                    .build()));
        }
        return ing;
    }

    private static Ingress canary(int i) {
        return new IngressBuilder()
                .withNewMetadata().withNamespace(ns(i)).withName("ing-" + i + "-canary")
                .withCreationTimestamp(Instant.ofEpochSecond(1_800_000_000L + i).toString())
                .withAnnotations(Map.of(P + "canary", "true", P + "canary-weight", "10")).endMetadata()
                .withNewSpec().withIngressClassName("nginx")
                .addNewRule().withHost("h-" + i + ".test").withNewHttp()
                .withPaths(path("/api", "Prefix", "svc-" + (i + 1))).endHttp().endRule()
                .endSpec().build();
    }

    private static HTTPIngressPath path(String path, String type, String svc) {
        return new HTTPIngressPathBuilder().withPath(path).withPathType(type)
                .withNewBackend().withNewService().withName(svc).withNewPort().withNumber(80).endPort().endService()
                .endBackend().build();
    }

    private static Service service(String ns, String name, int port) {
        return new ServiceBuilder().withNewMetadata().withNamespace(ns).withName(name).endMetadata()
                .withNewSpec().addNewPort().withPort(port).endPort().endSpec().build();
    }

    private static Secret tls(String ns, String name, TestCertificates.Issued c) {
        return new SecretBuilder().withNewMetadata().withNamespace(ns).withName(name).endMetadata()
                .withType("kubernetes.io/tls")
                .withStringData(Map.of("tls.crt", c.certificatePem(), "tls.key", c.pkcs8KeyPem())).build();
    }

    private static ConfigMap configMap(String ref, Map<String, String> data) {
        int slash = ref.indexOf('/');
        return new ConfigMapBuilder().withNewMetadata().withNamespace(ref.substring(0, slash))
                .withName(ref.substring(slash + 1)).endMetadata().withData(data).build();
    }

    /** A step: what it changes, and whether only endpoint addresses change. */
    private record Step(String what, boolean endpointAddressesOnly, UnaryOperator<Fleet> change) {}

    @Test
    void everyTranslationEqualsAFreshOneAndTheKeyMovesExactlyWithTheConfiguration() {
        Fleet fleet = new Fleet();
        for (int i = 1; i < INGRESSES; i += 10) { // canaries on the next Service
            fleet.ingresses.add(canary(i));
        }
        List<Step> steps = List.of(
                new Step("nothing", true, f -> f),
                new Step("endpoints of svc-3 replaced", true, f -> {
                    f.replaceSlice(slice(ns(3), "svc-3-a", "svc-3", 8080, "10.1.3.1", "10.1.3.7"));
                    return f;
                }),
                new Step("endpoints of ns-3/svc-12 (a canary's) replaced", true, f -> {
                    f.replaceSlice(slice("ns-3", "svc-12-a", "svc-12", 8080, "10.1.12.9"));
                    return f;
                }),
                new Step("svc-5 loses its last endpoint", false, f -> {
                    f.replaceSlice(slice(ns(5), "svc-5-a", "svc-5", 8080, new String[0]));
                    return f;
                }),
                new Step("svc-5 gets endpoints again", false, f -> {
                    f.replaceSlice(slice(ns(5), "svc-5-a", "svc-5", 8080, "10.2.5.1"));
                    return f;
                }),
                new Step("the default backend's endpoints replaced", true, f -> {
                    f.replaceSlice(slice("ingress-nginx", "fallback-a", "fallback", 8080, "10.9.0.2"));
                    return f;
                }),
                new Step("the default backend loses its endpoints", false, f -> {
                    f.replaceSlice(slice("ingress-nginx", "fallback-a", "fallback", 8080,
                            new String[0]));
                    return f;
                }),
                new Step("Ingress ing-2 edited", false, f -> {
                    f.ingresses.set(2, ingress(2, "/v2"));
                    return f;
                }),
                new Step("Ingress ing-10 (regex, custom-headers... ) replaced by an equal copy", false, f -> {
                    f.ingresses.set(10, ingress(10, "/api"));
                    return f;
                }),
                new Step("Secret ns-0/tls rotated", false, f -> {
                    f.secrets.set(0, tls("ns-0", "tls", TestCertificates.issue("*.test", "*.test")));
                    return f;
                }),
                new Step("IngressClass other handed to another controller", false, f -> {
                    f.classes.set(1, ingressClass("other", "example.com/another"));
                    return f;
                }),
                new Step("global ConfigMap changed", false, f -> {
                    f.configMaps.set(0, configMap(GLOBAL, Map.of("proxy-body-size", "1m", "load-balance", "ewma")));
                    return f;
                }),
                new Step("custom-headers ConfigMap of ns-3 changed", false, f -> {
                    f.configMaps.set(4, configMap("ns-3/headers", Map.of("X-Team", "renamed")));
                    return f;
                }),
                new Step("Service svc-4 moves to port 8080 (the Ingress names 80)", false, f -> {
                    f.replaceService(service(ns(4), "svc-4", 8080));
                    return f;
                }),
                new Step("Ingress ing-7 deleted", false, f -> {
                    f.ingresses.remove(7);
                    return f;
                }),
                new Step("endpoints of svc-20 replaced after all that", true, f -> {
                    f.replaceSlice(slice(ns(20), "svc-20-a", "svc-20", 8080, "10.3.20.1"));
                    return f;
                }));

        IngressTranslator memoised = new IngressTranslator(CONFIG);
        Translation previous = memoised.translate(fleet.state(), NOW);
        assertThat(previous.problems()).as("the fleet translates cleanly").isEmpty();
        assertThat(previous.table().hosts()).hasSizeGreaterThan(INGRESSES / 2);
        for (Step step : steps) {
            ClusterState state = step.change().apply(fleet).state();
            Translation again = memoised.translate(state, NOW);
            Translation fresh = new IngressTranslator(CONFIG).translate(state, NOW);

            assertThat(again.table()).as(step.what()).isEqualTo(fresh.table());
            assertThat(RoutesJson.render(again.table(), 1)).as(step.what()).isEqualTo(RoutesJson.render(fresh.table(), 1));
            assertThat(again.problems()).as(step.what()).isEqualTo(fresh.problems());
            assertThat(again.notes()).as(step.what()).isEqualTo(fresh.notes());
            assertThat(again.awaitingObjects()).as(step.what()).isEqualTo(fresh.awaitingObjects());

            boolean sameKey = again.configuration().equals(previous.configuration());
            assertThat(sameKey).as(step.what() + ": key unchanged").isEqualTo(step.endpointAddressesOnly());
            if (sameKey) {
                assertThat(RoutesJson.renderWithoutEndpoints(again.table()))
                        .as(step.what() + ": the configuration without endpoints")
                        .isEqualTo(RoutesJson.renderWithoutEndpoints(previous.table()));
            }
            previous = again;
        }
    }

    @Test
    void keysOfDifferentTranslatorsNeverMatch() {
        ClusterState state = new Fleet().state();
        assertThat(new IngressTranslator(CONFIG).translate(state, NOW).configuration())
                .isNotEqualTo(new IngressTranslator(CONFIG).translate(state, NOW).configuration());
    }
}
