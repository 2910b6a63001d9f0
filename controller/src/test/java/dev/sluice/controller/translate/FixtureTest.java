package dev.sluice.controller.translate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RoutingDecision;
import dev.sluice.gateway.request.SimpleRequestView;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every fixture under {@code src/test/resources/fixtures/}: objects in, routing decisions
 * out (see {@link Fixture} for the format). Each case becomes its own test, named after the
 * fixture, the Expect block and the request.
 */
class FixtureTest {
    /** Fixtures hold no certificates whose validity could depend on it; pinned all the same. */
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    @TestFactory
    Stream<DynamicNode> fixtures() throws IOException, URISyntaxException {
        Path dir = Path.of(FixtureTest.class.getResource("/fixtures").toURI());
        List<String> names;
        try (Stream<Path> files = Files.list(dir)) {
            names = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).sorted().toList();
        }
        assertThat(names).isNotEmpty();
        return names.stream().map(FixtureTest::fixture);
    }

    private static DynamicNode fixture(String name) {
        Fixture f = Fixture.load(name);
        assertThat(f.expectations()).as("Expect documents in %s", name).isNotEmpty();
        List<DynamicNode> blocks = new ArrayList<>();
        int i = 0;
        for (Fixture.Expect e : f.expectations()) {
            i++;
            blocks.add(block(f, e, e.name() != null ? e.name() : "expect #" + i));
        }
        return dynamicContainer(name, blocks);
    }

    private static DynamicNode block(Fixture f, Fixture.Expect e, String title) {
        Translation t = new IngressTranslator(e.translatorConfig()).translate(f.state(), NOW);
        List<DynamicNode> tests = new ArrayList<>();
        tests.add(dynamicTest("problems", () -> checkProblems(t, e.problems())));
        tests.add(dynamicTest("deterministic", () ->
                assertThat(new IngressTranslator(e.translatorConfig()).translate(f.state(), NOW)).isEqualTo(t)));
        if (e.cases() != null) {
            for (Fixture.Case c : e.cases()) {
                tests.add(dynamicTest(c.toString(), () -> checkCase(t, c)));
            }
        }
        return dynamicContainer(title, tests);
    }

    private static void checkProblems(Translation t, List<String> expected) {
        List<String> actual = t.problems().stream().map(Problem::toString).toList();
        List<String> wanted = expected == null ? List.of() : expected;
        for (String w : wanted) {
            assertThat(actual).as("problems").anySatisfy(p -> assertThat(p).contains(w));
        }
        assertThat(actual).as("problems (expected %s)", wanted).hasSameSizeAs(wanted);
    }

    private static void checkCase(Translation t, Fixture.Case c) {
        SimpleRequestView.Builder req = SimpleRequestView.builder().requestUri(c.uri());
        if (c.host() != null) {
            req.host(c.host());
        }
        if (c.headers() != null) {
            c.headers().forEach(req::header);
        }
        if (c.cookies() != null) {
            c.cookies().forEach(req::cookie);
        }
        if (c.method() != null) {
            req.method(c.method());
        }
        if (c.contentLength() != null) {
            req.contentLength(c.contentLength());
        }
        RoutingDecision d = t.table().decide(c.host(), c.uri(), c.scheme() == null ? "http" : c.scheme(), req.build());
        if (c.expectsForward()) {
            assertThat(d).as("decision for %s", c).isInstanceOf(RoutingDecision.Forward.class);
            RoutingDecision.Forward fwd = (RoutingDecision.Forward) d;
            if (c.backend() != null) {
                assertThat(fwd.backend().name()).as("backend").isEqualTo(c.backend());
            }
            if (c.canary() != null) {
                assertThat(fwd.isCanary()).as("served by the canary (%s)", fwd.canary()).isEqualTo(c.canary());
            }
            if (c.route() != null) {
                assertThat(fwd.route().source()).as("route source").isEqualTo(c.route());
            }
            if (c.endpoints() != null) {
                assertThat(fwd.backend().endpoints()).extracting(Endpoint::toString).as("endpoints")
                        .containsExactlyElementsOf(c.endpoints());
            }
            assertThat(fwd.upstreamUri()).as("upstream URI")
                    .isEqualTo(c.upstreamUri() != null ? c.upstreamUri() : c.uri());
            assertThat(fwd.forwardedPrefix()).as("X-Forwarded-Prefix").isEqualTo(c.forwardedPrefix());
            checkCors(c, fwd.corsOrigin());
            RouteOptions o = fwd.route().options();
            if (c.connectTimeout() != null) {
                assertThat(o.connectTimeout()).as("connect timeout").isEqualTo(expectedDuration(c.connectTimeout()));
            }
            if (c.sendTimeout() != null) {
                assertThat(o.sendTimeout()).as("send timeout").isEqualTo(expectedDuration(c.sendTimeout()));
            }
            if (c.readTimeout() != null) {
                assertThat(o.readTimeout()).as("read timeout").isEqualTo(expectedDuration(c.readTimeout()));
            }
            if (c.nextUpstreamTries() != null) {
                assertThat(o.nextUpstreamTries()).as("next upstream tries").isEqualTo(c.nextUpstreamTries());
            }
        } else {
            assertThat(d).as("decision for %s", c).isInstanceOf(RoutingDecision.Respond.class);
            RoutingDecision.Respond r = (RoutingDecision.Respond) d;
            assertThat(r.status()).as("status (%s)", r.reason()).isEqualTo(c.status());
            assertThat(r.location()).as("Location").isEqualTo(c.location());
            checkCors(c, r.corsOrigin());
        }
    }

    private static void checkCors(Fixture.Case c, String actual) {
        if (c.corsOrigin() != null) {
            assertThat(actual).as("Access-Control-Allow-Origin")
                    .isEqualTo(c.corsOrigin().equals("-") ? null : c.corsOrigin());
        }
    }

    /**
     * An expected duration of a fixture, written in whole seconds ({@code 10s}): read here, not by
     * the {@link Durations} parser the translator uses, so a wrong parser cannot agree with itself.
     */
    private static java.time.Duration expectedDuration(String text) {
        assertThat(text).as("fixture durations are whole seconds like 10s").matches("[0-9]+s");
        return java.time.Duration.ofSeconds(Long.parseLong(text.substring(0, text.length() - 1)));
    }
}
