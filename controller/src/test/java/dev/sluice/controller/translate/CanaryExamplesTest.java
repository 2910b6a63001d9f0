package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.source.ManifestParser;
import dev.sluice.controller.source.ManifestSource;
import dev.sluice.controller.sync.SyncLoop;
import dev.sluice.gateway.balance.CyclingDraw;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RouteTableHolder;
import dev.sluice.gateway.route.RoutingDecision;
import dev.sluice.gateway.request.SimpleRequestView;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gray-release examples of {@code deploy/examples/canary/} (docs/canary.md) through the real
 * parser and translator, attached to the seed's mainline Ingress; and a canary edited live in a
 * watched manifest directory (ManifestSource → SyncLoop → translator → holder).
 */
class CanaryExamplesTest {
    static final Path EXAMPLES = Path.of(System.getProperty("basedir", ".")).resolve("../deploy/examples").normalize();

    /** Ready endpoints for both versions, as a cluster would have them. */
    static final String SLICES = """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: user-v1, labels: {kubernetes.io/service-name: user-service-v1}}
            addressType: IPv4
            ports: [{port: 80}]
            endpoints: [{addresses: [10.0.0.1]}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: user-v2, labels: {kubernetes.io/service-name: user-service-v2}}
            addressType: IPv4
            ports: [{port: 80}]
            endpoints: [{addresses: [10.0.0.2]}]
            """;

    static Translation translate(String canaryFile) throws Exception {
        return translateText(canaryFile, Files.readString(EXAMPLES.resolve("canary/" + canaryFile)));
    }

    /** The example with its canary file edited by {@code edit} (which must change it). */
    static Translation translate(String canaryFile, UnaryOperator<String> edit) throws Exception {
        String canary = Files.readString(EXAMPLES.resolve("canary/" + canaryFile));
        String edited = edit.apply(canary);
        assertThat(edited).as("the edit of %s", canaryFile).isNotEqualTo(canary);
        return translateText(canaryFile, edited);
    }

    private static Translation translateText(String canaryFile, String canary) throws Exception {
        StringBuilder all = new StringBuilder();
        for (String f : List.of("ingressclass.yaml", "user-service-v1.yaml", "pay-service-v1.yaml", "ingress.yaml", "canary/user-v2.yaml")) {
            all.append(Files.readString(EXAMPLES.resolve(f))).append("\n---\n");
        }
        all.append(canary).append("\n---\n");
        all.append(SLICES);
        return new IngressTranslator(TranslatorConfig.DEFAULTS)
                .translate(ManifestParser.parse(canaryFile, all.toString()).toClusterState(), Instant.now());
    }

    static boolean canary(RouteTable t, SimpleRequestView.Builder req) {
        RoutingDecision d = t.decide("node", "/user/profile", "http", req.build());
        assertThat(d).isInstanceOf(RoutingDecision.Forward.class);
        RoutingDecision.Forward f = (RoutingDecision.Forward) d;
        assertThat(f.upstreamUri()).as("the mainline's rewrite-target applies").isEqualTo("/");
        assertThat(f.backend().name()).isEqualTo(f.isCanary() ? "default-user-service-v2-80" : "default-user-service-v1-80");
        return f.isCanary();
    }

    static SimpleRequestView.Builder req() {
        return SimpleRequestView.builder().requestUri("/user/profile");
    }

    /** Adds {@code canary-weight: "100"} after the line {@code after}: every request not decided before goes to the canary. */
    static UnaryOperator<String> fullWeightAfter(String after) {
        return yaml -> yaml.replace(after + "\n", after + "\n    nginx.ingress.kubernetes.io/canary-weight: \"100\"\n");
    }

    @Test
    void header() throws Exception {
        Translation t = translate("header.yaml");
        assertThat(t.problems()).isEmpty();
        assertThat(canary(t.table(), req().header("X-Canary", "always"))).isTrue();
        assertThat(canary(t.table(), req().header("X-Canary", "never"))).isFalse();
        assertThat(canary(t.table(), req())).isFalse();
        // with weight 100, "never" is visible: it keeps the mainline where no header goes to the canary
        Translation full = translate("header.yaml", fullWeightAfter("    nginx.ingress.kubernetes.io/canary-by-header: X-Canary"));
        assertThat(full.problems()).isEmpty();
        assertThat(canary(full.table(), req())).isTrue();
        assertThat(canary(full.table(), req().header("X-Canary", "other"))).isTrue();
        assertThat(canary(full.table(), req().header("X-Canary", "never"))).isFalse();
        // /pay has no canary: its Service has no endpoints here, and the header does not help
        RoutingDecision pay = t.table().decide("node", "/pay", "http", req().header("X-Canary", "always").build());
        assertThat(pay).isInstanceOfSatisfying(RoutingDecision.Respond.class, r -> assertThat(r.status()).isEqualTo(503));
    }

    @Test
    void headerValue() throws Exception {
        Translation t = translate("header-value.yaml");
        assertThat(t.problems()).isEmpty();
        assertThat(canary(t.table(), req().header("X-Version", "v2"))).isTrue();
        assertThat(canary(t.table(), req().header("X-Version", "beta"))).isTrue();
        assertThat(canary(t.table(), req().header("X-Version", "v1"))).isFalse();
    }

    @Test
    void headerPattern() throws Exception {
        Translation t = translate("header-pattern.yaml");
        assertThat(t.problems()).isEmpty();
        assertThat(canary(t.table(), req().header("X-User", "qa-7"))).isTrue();
        assertThat(canary(t.table(), req().header("X-User", "alice"))).isTrue();
        assertThat(canary(t.table(), req().header("X-User", "carol"))).isFalse();
    }

    @Test
    void cookie() throws Exception {
        Translation t = translate("cookie.yaml");
        assertThat(t.problems()).isEmpty();
        assertThat(canary(t.table(), req().cookie("canary", "always"))).isTrue();
        assertThat(canary(t.table(), req().cookie("canary", "never"))).isFalse();
        assertThat(canary(t.table(), req())).isFalse();
        // with weight 100, "never" is visible: it keeps the mainline where no cookie goes to the canary
        Translation full = translate("cookie.yaml", fullWeightAfter("    nginx.ingress.kubernetes.io/canary-by-cookie: canary"));
        assertThat(full.problems()).isEmpty();
        assertThat(canary(full.table(), req())).isTrue();
        assertThat(canary(full.table(), req().cookie("canary", "never"))).isFalse();
    }

    @Test
    void weights() throws Exception {
        // canary-weight 20 (of 100): exactly 20 of the draws 1..100; 5 of 1000 with canary-weight-total
        assertThat(canaryOfEveryDraw(translate("weight.yaml"), 100)).isEqualTo(20);
        assertThat(canaryOfEveryDraw(translate("weight-total.yaml"), 1000)).isEqualTo(5);
    }

    /** How many of {@code total} requests go to the canary when they draw each of 1..total once. */
    private static int canaryOfEveryDraw(Translation t, int total) {
        assertThat(t.problems()).isEmpty();
        CyclingDraw draw = new CyclingDraw();
        int canary = 0;
        for (int i = 0; i < total; i++) {
            RoutingDecision d = t.table().decide("node", "/user", "http", SimpleRequestView.empty(), draw);
            if (((RoutingDecision.Forward) d).isCanary()) {
                canary++;
            }
        }
        return canary;
    }

    @Test
    void aCanaryEditedInAWatchedDirectoryTakesEffect(@TempDir Path dir) throws Exception {
        for (String f : List.of("ingressclass.yaml", "user-service-v1.yaml", "pay-service-v1.yaml", "ingress.yaml",
                "canary/user-v2.yaml")) {
            Files.copy(EXAMPLES.resolve(f), dir.resolve(Path.of(f).getFileName()));
        }
        Files.writeString(dir.resolve("slices.yaml"), SLICES);
        Path canary = dir.resolve("weight.yaml");
        String weight = Files.readString(EXAMPLES.resolve("canary/weight.yaml"));
        Files.writeString(canary, weight.replace("canary-weight: \"20\"", "canary-weight: \"0\""));

        RouteTableHolder holder = new RouteTableHolder();
        SyncLoop[] loop = new SyncLoop[1];
        try (ManifestSource source = new ManifestSource(List.of(dir), () -> loop[0].markDirty())) {
            loop[0] = new SyncLoop(source::snapshot, new IngressTranslator(TranslatorConfig.DEFAULTS), holder,
                    problems -> {}, Duration.ofMillis(20), new SimpleMeterRegistry());
            source.start();
            try (SyncLoop l = loop[0]) {
                l.start();
                // weight 0: every request is forwarded, to the mainline (not merely "not to the canary")
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(sides(holder)).isEqualTo("mainline=20 canary=0"));
                Files.writeString(canary, weight.replace("canary-weight: \"20\"", "canary-weight: \"100\""));
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(sides(holder)).isEqualTo("mainline=0 canary=20"));
                Files.delete(canary); // roll back: delete the canary; the mainline keeps serving
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(sides(holder)).isEqualTo("mainline=20 canary=0"));
            }
        }
    }

    /** Where 20 requests for /user are forwarded: counts of the mainline and the canary backend. */
    private static String sides(RouteTableHolder holder) {
        int mainline = 0;
        int canary = 0;
        for (int i = 0; i < 20; i++) {
            if (holder.current().decide("node", "/user", "http") instanceof RoutingDecision.Forward f) {
                if (f.isCanary() && f.backend().name().equals("default-user-service-v2-80")) {
                    canary++;
                } else if (!f.isCanary() && f.backend().name().equals("default-user-service-v1-80")) {
                    mainline++;
                }
            }
        }
        return "mainline=" + mainline + " canary=" + canary;
    }
}
