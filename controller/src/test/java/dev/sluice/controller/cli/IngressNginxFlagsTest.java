package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** ingress-nginx's command line given to Sluice: accepted, warned about, or refused. */
class IngressNginxFlagsTest {

    @Test
    void theBaremetalDeploymentArgsOfIngressNginxStartWithWarnings() throws IOException {
        List<String> args = new ArrayList<>();
        for (JsonNode arg : resourceYaml("ingress-nginx/deploy-baremetal-args.yaml").get("args")) {
            // what the kubelet does with the Pod's env (POD_NAMESPACE from the downward API)
            args.add(arg.asText().replace("$(POD_NAMESPACE)", "ingress-nginx"));
        }
        assertThat(args).hasSize(8).contains("--validating-webhook=:8443");

        Main main = Main.parsed(args.toArray(String[]::new));

        SluiceOptions o = main.options();
        assertThat(o.electionId()).isEqualTo("ingress-nginx-leader");
        assertThat(o.controllerClass()).isEqualTo("k8s.io/ingress-nginx");
        assertThat(o.ingressClass()).isEqualTo("nginx");
        assertThat(o.configMap()).isEqualTo("ingress-nginx/ingress-nginx-controller");
        // the admission webhook flags are Sluice's own now, with ingress-nginx's paths and port
        assertThat(o.validatingWebhook()).isNotNull();
        assertThat(o.validatingWebhook().port()).isEqualTo(8443);
        assertThat(o.validatingWebhook().certificate()).hasToString("/usr/local/certificates/cert");
        assertThat(main.warnings()).satisfiesExactly(
                w -> assertThat(w).startsWith("/nginx-ingress-controller").contains("ignored"));
    }

    @Test
    void everyFlagOfIngressNginxIsKnownToMain() throws IOException {
        List<String> names = resourceLines("ingress-nginx/flags.txt");
        assertThat(names).hasSizeGreaterThan(80).contains("profiling", "v", "watch-namespace-selector");
        CommandSpec spec = Main.commandLine(new Main()).getCommandSpec();

        assertThat(names).allSatisfy(name ->
                assertThat(spec.findOption("--" + name)).as("--" + name).isNotNull());
    }

    @Test
    void everyIgnoredFlagIsAcceptedWithOneWarningNamingIt() throws IOException {
        for (IngressNginxFlags.Flag f : IngressNginxFlags.all()) {
            if (f.handling() != IngressNginxFlags.Handling.IGNORED) {
                continue;
            }
            String arg = f.bool() ? f.option() : f.option() + "=x";

            List<String> warnings = Main.parsed(arg).warnings();

            assertThat(warnings).as(arg).singleElement().satisfies(w ->
                    assertThat(w).startsWith(f.option() + " is an ingress-nginx flag Sluice ignores: ").doesNotContain("\n"));
        }
    }

    @Test
    void ignoredValuesAreNotEchoed() {
        // the license key is a secret; warnings go to the log
        assertThat(Main.parsed("--maxmind-license-key=s3cr3t").warnings()).singleElement()
                .satisfies(w -> assertThat(w).doesNotContain("s3cr3t"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--watch-namespace-selector=team=shop  | --watch-namespace-selector=team=shop is not supported by Sluice",
        "--apiserver-host=https://10.0.0.1:6443 | --apiserver-host=https://10.0.0.1:6443 is not supported",
        "--disable-catch-all                    | --disable-catch-all=true is not supported",
        "--disable-catch-all=1                  | --disable-catch-all=1 is not supported",
        "--ingress-class-by-name=true           | --ingress-class-by-name=true is not supported",
        "--report-node-internal-ip-address      | --report-node-internal-ip-address=true is not supported",
        "--healthz-host=127.0.0.1               | --healthz-host=127.0.0.1 is not supported",
    })
    void flagsThatWouldChangeRoutingOrSecurityStopStartUp(String arg, String message) {
        StringWriter err = new StringWriter();
        CommandLine cmd = Main.commandLine(new Main());
        cmd.setErr(new PrintWriter(err));
        cmd.setOut(new PrintWriter(new StringWriter()));

        int code = cmd.execute(arg);

        assertThat(code).isEqualTo(2);
        assertThat(err.toString().lines().toList()).containsExactly(
                err.toString().lines().findFirst().orElseThrow(), Main.SEE_HELP);
        assertThat(err.toString()).startsWith(message).contains("docs/compatibility.md");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"--watch-namespace-selector=", "--apiserver-host=", "--disable-catch-all=false",
        "--ingress-class-by-name=0", "--report-node-internal-ip-address=f", "--healthz-host=0.0.0.0"})
    void refusedFlagsAtTheirDefaultAreAcceptedSilently(String arg) {
        assertThat(Main.parsed(arg).warnings()).isEmpty();
    }

    @Test
    void goSpellingsAreAccepted() {
        // value after a space, one dash, klog's -v shorthand, a repeated flag (the last wins)
        Main main = Main.parsed("--sync-rate-limit", "0.3", "-profiling=false", "-v=2", "--v", "3", "-v4",
                "-election-id=a", "--election-id", "b", "--metrics-per-undefined-host=F",
                "--watch-ingress-without-class=1", "--sync-period", "10m", "-update-status=f", "--enable-metrics=F");

        assertThat(main.warnings()).extracting(w -> w.substring(0, w.indexOf(' ')))
                .containsExactly("--sync-rate-limit", "--profiling", "--v", "--metrics-per-undefined-host");
        // implemented now: the flags ingress-nginx's Deployments set, with Go's spellings
        assertThat(main.options().syncPeriod()).isEqualTo(Duration.ofMinutes(10));
        assertThat(main.options().updateStatus()).isFalse();
        assertThat(main.options().metrics().requestMetrics()).isFalse();
        assertThat(main.options().electionId()).isEqualTo("b");
        assertThat(main.options().watchIngressWithoutClass()).isTrue();
        assertThat(Main.parse("--watch-ingress-without-class=t", "--watch-ingress-without-class=0")
                .watchIngressWithoutClass()).isFalse();
    }

    @Test
    void aSingleDashIsOnlyWidenedForKnownFlags() {
        assertThatThrownBy(() -> Main.parsed("-no-such-flag"))
                .isInstanceOf(ParameterException.class).hasMessageContaining("'-no-such-flag'");
        assertThat(Main.parsed("-sync-rate-limit=1", "-http-port", "8080").options().httpPort()).isEqualTo(8080);
    }

    @Test
    void aBooleanGoWouldRejectIsRejected() {
        assertThatThrownBy(() -> Main.parsed("--profiling=yes"))
                .isInstanceOf(ParameterException.class).hasMessageContaining("invalid boolean value 'yes'");
        assertThatThrownBy(() -> Main.parsed("--demo=yes"))
                .isInstanceOf(ParameterException.class).hasMessageContaining("'yes'");
    }

    @Test
    void aStrayArgumentIsStillAnError() {
        assertThatThrownBy(() -> Main.parsed("/usr/bin/sluice"))
                .isInstanceOf(ParameterException.class).hasMessageContaining("unexpected argument '/usr/bin/sluice'");
        assertThatThrownBy(() -> Main.parsed("/nginx-ingress-controller", "extra"))
                .isInstanceOf(ParameterException.class).hasMessageContaining("extra");
    }

    @Test
    void helpListsSluiceFlagsFirstThenTheRefusedThenTheIgnoredOnes() {
        StringWriter out = new StringWriter();
        CommandLine cmd = Main.commandLine(new Main());
        cmd.setOut(new PrintWriter(out));

        assertThat(cmd.execute("--help")).isZero();

        String help = out.toString();
        int own = help.indexOf("--http-port");
        int refusedHeading = help.indexOf("only with their default value");
        int refused = help.indexOf("--watch-namespace-selector");
        int ignoredHeading = help.indexOf("Accepted for ingress-nginx compatibility and ignored");
        int ignored = help.indexOf("--profiling");
        assertThat(List.of(own, refusedHeading, refused, ignoredHeading, ignored)).doesNotContain(-1).isSorted();
        // the Sluice options end before the first heading: none of them is listed among the compatibility ones
        assertThat(help.substring(refusedHeading)).doesNotContain("--http-port", "--manifests", "--configmap");
        assertThat(help.substring(0, refusedHeading)).doesNotContain("--profiling", "--maxmind-mirror");
    }

    private static JsonNode resourceYaml(String name) throws IOException {
        try (InputStream in = IngressNginxFlagsTest.class.getClassLoader().getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new ObjectMapper(new YAMLFactory()).readTree(in);
        }
    }

    private static List<String> resourceLines(String name) throws IOException {
        try (InputStream in = IngressNginxFlagsTest.class.getClassLoader().getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .map(String::trim).filter(l -> !l.isEmpty() && !l.startsWith("#"))
                    .collect(Collectors.toList());
        }
    }
}
