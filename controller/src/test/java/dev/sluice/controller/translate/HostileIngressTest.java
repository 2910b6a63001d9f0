package dev.sluice.controller.translate;

import static dev.sluice.controller.testing.Fixtures.ingress;
import static dev.sluice.controller.testing.Fixtures.service;
import static dev.sluice.controller.testing.Fixtures.slice;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RoutingDecision;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Ingresses written to hurt: control characters and enormous values in every annotation,
 * control characters in hosts and paths, ten thousand Ingresses on one host. Each is reported
 * as a problem of its own object, every other Ingress is still served, and no value reaches the
 * routing table (whose strings become headers, URLs and redirects) or a problem message (a log
 * line, a Kubernetes Event) with a raw control character in it.
 */
class HostileIngressTest {
    static final String PREFIX = "nginx.ingress.kubernetes.io/";
    /** Values that would split a header, a log line or a URL if they got through as they are. */
    static final List<String> PAYLOADS = List.of(
            "x\r\nX-Injected: 1",
            "/ok\r\nX-Injected: 1",
            "http://evil.test/\r\nSet-Cookie: a=b",
            "true\nX-Injected: 1",
            "10\r\n",
            "a\u0000b",
            "/p\u001b[31m");

    private static Translation translate(List<Ingress> ingresses) {
        return new IngressTranslator(TranslatorConfig.DEFAULTS).translate(new ClusterState(ingresses, List.of(),
                List.of(service("default", "good", 80), service("default", "bad", 80)),
                List.of(slice("default", "good-1", "good", 80, "10.0.0.1"), slice("default", "bad-1", "bad", 80, "10.0.0.2")),
                List.of(), List.of()), Instant.EPOCH);
    }

    private static Ingress hostile(Map<String, String> annotations) {
        Ingress ing = ingress("default", "hostile", "bad.example.com", "/", "bad", 80);
        Map<String, String> all = new HashMap<>(ing.getMetadata().getAnnotations());
        all.putAll(annotations);
        ing.getMetadata().setAnnotations(all);
        return ing;
    }

    private static Ingress good() {
        return ingress("default", "good", "good.example.com", "/", "good", 80);
    }

    private static void goodIsServed(RouteTable table) {
        RoutingDecision d = table.decide("good.example.com", "/x", "http");
        assertThat(d).isInstanceOf(RoutingDecision.Forward.class);
        assertThat(((RoutingDecision.Forward) d).upstream().name()).isEqualTo("default-good-80");
    }

    @Test
    void noAnnotationValueReachesTheTableOrAProblemWithAControlCharacter() {
        for (AnnotationKey key : AnnotationKey.values()) {
            for (String payload : PAYLOADS) {
                String what = key.suffix() + "=" + payload.replace("\r", "\\r").replace("\n", "\\n");
                Map<String, String> annotations = new HashMap<>();
                annotations.put(PREFIX + key.suffix(), payload);
                if (key.suffix().startsWith("cors-")) {
                    annotations.put(PREFIX + "enable-cors", "true");
                }
                Translation t = translate(List.of(hostile(annotations), good()));
                assertThat(controlCharacters(t.table())).as(what).isEmpty();
                assertThat(t.problems()).as(what).allSatisfy(p -> assertThat(clean(p.toString())).as(p.toString()).isTrue());
                assertThat(t.problems()).as(what).allSatisfy(p -> assertThat(p.name()).isEqualTo("hostile"));
                goodIsServed(t.table());
            }
        }
    }

    @Test
    void enormousAnnotationValuesAreReportedBrieflyAndChangeNothingElse() {
        String huge = "a".repeat(256 * 1024);
        Map<String, String> annotations = new HashMap<>();
        for (AnnotationKey key : AnnotationKey.values()) {
            annotations.put(PREFIX + key.suffix(), huge);
        }
        Translation t = translate(List.of(hostile(annotations), good()));
        assertThat(t.problems()).isNotEmpty().allSatisfy(p -> {
            assertThat(p.name()).isEqualTo("hostile");
            assertThat(p.message().length()).isLessThanOrEqualTo(Problem.MAX_MESSAGE_LENGTH);
        });
        goodIsServed(t.table());
    }

    @Test
    void controlCharactersInHostsAndPathsSkipThatRuleOrPathWithAProblem() {
        Ingress badHost = ingress("default", "bad-host", "bad\r\nX-Injected.example.com", "/", "bad", 80);
        Ingress nulHost = ingress("default", "nul-host", "bad\u0000.example.com", "/", "bad", 80);
        Ingress badPath = ingress("default", "bad-path", "bad.example.com", "/a\r\nX-Injected: 1", "bad", 80);
        Ingress escPath = ingress("default", "esc-path", "bad.example.com", "/b\u001b[2J", "bad", 80);
        Translation t = translate(List.of(badHost, nulHost, badPath, escPath, good()));
        assertThat(t.problems()).extracting(Problem::name)
                .containsExactlyInAnyOrder("bad-host", "nul-host", "bad-path", "esc-path");
        assertThat(t.problems()).allSatisfy(p -> assertThat(clean(p.toString())).as(p.toString()).isTrue());
        assertThat(controlCharacters(t.table())).isEmpty();
        goodIsServed(t.table());
    }

    @Test
    void tenThousandIngressesOnOneHostAllRoute() {
        List<Ingress> ingresses = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            ingresses.add(ingress("default", "ing-" + i, "one.example.com", "/p-" + i, i % 2 == 0 ? "good" : "bad", 80));
        }
        ingresses.add(good());
        Translation t = translate(ingresses);
        assertThat(t.problems()).isEmpty();
        for (int i : new int[] {0, 1, 4_999, 9_998, 9_999}) {
            RoutingDecision d = t.table().decide("one.example.com", "/p-" + i + "/x", "http");
            assertThat(d).as("/p-" + i).isInstanceOf(RoutingDecision.Forward.class);
            assertThat(((RoutingDecision.Forward) d).route().source()).isEqualTo("default/ing-" + i);
        }
        goodIsServed(t.table());
    }

    static boolean clean(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** Every string reachable from {@code root} through Sluice's own objects that holds a control character. */
    static List<String> controlCharacters(Object root) {
        List<String> found = new ArrayList<>();
        walk(root, Collections.newSetFromMap(new IdentityHashMap<>()), found, 0);
        return found;
    }

    private static void walk(Object o, Set<Object> seen, List<String> found, int depth) {
        if (o == null || depth > 40 || !seen.add(o)) {
            return;
        }
        if (o instanceof CharSequence s) {
            if (!clean(s.toString())) {
                found.add(s.toString());
            }
            return;
        }
        if (o instanceof Collection<?> c) {
            c.forEach(e -> walk(e, seen, found, depth + 1));
            return;
        }
        if (o instanceof Map<?, ?> m) {
            m.forEach((k, v) -> {
                walk(k, seen, found, depth + 1);
                walk(v, seen, found, depth + 1);
            });
            return;
        }
        if (o instanceof Optional<?> opt) {
            opt.ifPresent(v -> walk(v, seen, found, depth + 1));
            return;
        }
        Class<?> type = o.getClass();
        if (type.isArray()) {
            if (!type.getComponentType().isPrimitive()) {
                for (int i = 0; i < Array.getLength(o); i++) {
                    walk(Array.get(o, i), seen, found, depth + 1);
                }
            }
            return;
        }
        if (!type.getName().startsWith("dev.sluice.")) {
            return; // JDK and library objects (compiled patterns, certificates) are not ours to look into
        }
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
                    continue;
                }
                try {
                    f.setAccessible(true);
                    walk(f.get(o), seen, found, depth + 1);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    // unreadable: skip
                }
            }
        }
    }
}
