package dev.sluice.controller.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.controller.translate.IngressTranslator;
import dev.sluice.controller.translate.TranslatorConfig;
import dev.sluice.gateway.route.RoutingDecision;
import io.fabric8.kubernetes.api.model.Service;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestSourceTest {
    // Sluice aims at 1 s from an edit to the new snapshot; a unit test on a loaded machine only
    // checks that it happens, with a ceiling no slow run reaches
    private static final Duration EVENTUALLY = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final AtomicInteger changes = new AtomicInteger();
    private ManifestSource source;

    @AfterEach
    void close() {
        if (source != null) {
            source.close();
        }
    }

    private static String service(String name) {
        return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + "}\nspec: {ports: [{port: 80}]}\n";
    }

    private List<String> serviceNames() {
        return source.snapshot().services().stream().map(Service::getMetadata).map(m -> m.getName()).toList();
    }

    private ManifestSource start(Path... paths) throws IOException {
        source = new ManifestSource(List.of(paths), changes::incrementAndGet);
        source.start();
        return source;
    }

    @Test
    void initialLoadReadsDirectoriesRecursivelyInPathOrder() throws IOException {
        Files.writeString(dir.resolve("b.yaml"), service("b"));
        Files.createDirectories(dir.resolve("a/sub"));
        Files.writeString(dir.resolve("a/sub/z.yml"), service("a-sub-z"));
        Files.writeString(dir.resolve("a/y.json"),
                "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"a-y\"}}");
        Files.writeString(dir.resolve("c.txt"), service("not-a-manifest"));
        Files.writeString(dir.resolve(".hidden.yaml"), service("hidden"));
        start(dir);
        assertThat(serviceNames()).containsExactly("a-sub-z", "a-y", "b");
        assertThat(source.fileProblems()).isEmpty();
        // synthetic timestamps follow that order
        assertThat(source.snapshot().services()).extracting(s -> s.getMetadata().getCreationTimestamp())
                .containsExactly("1970-01-01T00:00:01Z", "1970-01-01T00:00:02Z", "1970-01-01T00:00:03Z");
    }

    @Test
    void explicitFilesAndDirectoriesKeepTheGivenOrder() throws IOException {
        Path other = Files.createDirectories(dir.resolve("other"));
        Files.writeString(other.resolve("a.yaml"), service("in-dir"));
        Path single = dir.resolve("single.manifest");
        Files.writeString(single, service("named-file"));
        start(single, other);
        assertThat(serviceNames()).containsExactly("named-file", "in-dir");
    }

    @Test
    void anEditTakesEffectWithinASecond() throws IOException {
        Path file = dir.resolve("svc.yaml");
        Files.writeString(file, service("before"));
        start(dir);
        assertThat(serviceNames()).containsExactly("before");
        Files.writeString(file, service("after"));
        await().atMost(EVENTUALLY).untilAsserted(() -> assertThat(serviceNames()).containsExactly("after"));
        assertThat(changes.get()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aBrokenFileKeepsItsLastGoodContentAndIsReportedUntilFixed() throws IOException {
        Path file = dir.resolve("svc.yaml");
        Path other = dir.resolve("other.yaml");
        Files.writeString(file, service("good"));
        Files.writeString(other, service("other"));
        start(dir);
        Files.writeString(file, "apiVersion: v1\nkind: Service\nmetadata:\n  name: [broken\n");
        await().atMost(EVENTUALLY).untilAsserted(() -> assertThat(source.fileProblems())
                .singleElement().asString().startsWith(file + ":5: "));
        assertThat(serviceNames()).containsExactly("other", "good");

        Files.writeString(other, service("other-edited")); // other files still follow edits
        await().atMost(EVENTUALLY).untilAsserted(() -> assertThat(serviceNames()).containsExactly("other-edited", "good"));

        Files.writeString(file, service("fixed"));
        await().atMost(EVENTUALLY).untilAsserted(() -> {
            assertThat(serviceNames()).containsExactly("other-edited", "fixed");
            assertThat(source.fileProblems()).isEmpty();
        });
    }

    @Test
    void aFileThatNeverParsedContributesNothing() throws IOException {
        Files.writeString(dir.resolve("bad.yaml"), "kind: Service\nmetadata: {name: [\n");
        Files.writeString(dir.resolve("good.yaml"), service("good"));
        start(dir);
        assertThat(serviceNames()).containsExactly("good");
        assertThat(source.fileProblems()).singleElement().asString().startsWith(dir.resolve("bad.yaml") + ":");
    }

    @Test
    void deletingAFileDropsItsObjects() throws IOException {
        Files.writeString(dir.resolve("a.yaml"), service("a"));
        Files.writeString(dir.resolve("b.yaml"), service("b"));
        start(dir);
        Files.delete(dir.resolve("a.yaml"));
        await().atMost(EVENTUALLY).untilAsserted(() -> assertThat(serviceNames()).containsExactly("b"));
    }

    @Test
    void newSubdirectoriesAreWatched() throws IOException {
        start(dir);
        assertThat(serviceNames()).isEmpty();
        Path sub = Files.createDirectories(dir.resolve("new/deeper"));
        Files.writeString(sub.resolve("x.yaml"), service("x"));
        await().atMost(EVENTUALLY).untilAsserted(() -> assertThat(serviceNames()).containsExactly("x"));
        // and edits inside them are seen too
        Files.writeString(sub.resolve("x.yaml"), service("x2"));
        await().atMost(EVENTUALLY).untilAsserted(() -> assertThat(serviceNames()).containsExactly("x2"));
    }

    @Test
    void aMissingPathIsReportedAndPickedUpWhenItAppears() throws IOException {
        Path later = dir.resolve("later.yaml");
        start(later);
        assertThat(source.fileProblems()).containsExactly(later + ": not found");
        Files.writeString(later, service("late"));
        await().atMost(EVENTUALLY).untilAsserted(() -> {
            assertThat(serviceNames()).containsExactly("late");
            assertThat(source.fileProblems()).isEmpty();
        });
    }

    @Test
    void theSeedTutorialRoutesFromAWatchedDirectory() throws Exception {
        Path file = dir.resolve("tutorial.yaml");
        try (var in = getClass().getResourceAsStream("/fixtures/seed-tutorial.yaml")) {
            Files.write(file, in.readAllBytes());
        }
        start(dir);
        IngressTranslator translator = new IngressTranslator(TranslatorConfig.DEFAULTS);
        RoutingDecision d = translator.translate(source.snapshot(), Instant.now()).table().decide("node:31234", "/pay/x", "http");
        assertThat(d).isInstanceOfSatisfying(RoutingDecision.Forward.class, f -> {
            assertThat(f.backend().name()).isEqualTo("default-pay-service-v1-80");
            assertThat(f.upstreamUri()).isEqualTo("/");
        });
        // move /pay to the user service: the next snapshot routes it there
        Files.writeString(file, Files.readString(file).replace("serviceName: pay-service-v1", "serviceName: user-service-v1"));
        await().atMost(EVENTUALLY).untilAsserted(() -> assertThat(
                translator.translate(source.snapshot(), Instant.now()).table().decide("node:31234", "/pay/x", "http"))
                .isInstanceOfSatisfying(RoutingDecision.Forward.class,
                        f -> assertThat(f.backend().name()).isEqualTo("default-user-service-v1-80")));
    }

    @Test
    void snapshotsAreImmutable() throws IOException {
        Files.writeString(dir.resolve("a.yaml"), service("a"));
        start(dir);
        var snapshot = source.snapshot();
        Files.writeString(dir.resolve("a.yaml"), service("b"));
        await().atMost(EVENTUALLY).until(() -> source.snapshot() != snapshot);
        assertThat(snapshot.services()).extracting(s -> s.getMetadata().getName()).containsExactly("a");
    }
}
