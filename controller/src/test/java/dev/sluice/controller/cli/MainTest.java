package dev.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

class MainTest {
    @TempDir
    Path dir;

    @Test
    void defaultsAreIngressNginxsAndTheDesignsPorts() {
        SluiceOptions o = Main.parse();

        assertThat(o.httpPort()).isEqualTo(31234);
        assertThat(o.httpsPort()).isEqualTo(31235);
        assertThat(o.healthzPort()).isEqualTo(10254);
        assertThat(o.bindAddress()).isNull(); // all interfaces
        assertThat(o.eventLoops()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(o.manifests()).isEmpty();
        assertThat(o.demo()).isFalse();
        assertThat(o.mode()).isEqualTo(SluiceOptions.Mode.CLUSTER);
        assertThat(o.ingressClass()).isEqualTo("nginx");
        assertThat(o.controllerClass()).isEqualTo("k8s.io/ingress-nginx");
        assertThat(o.watchIngressWithoutClass()).isFalse();
        assertThat(o.defaultBackendService()).isNull();
        assertThat(o.annotationsPrefix()).isEqualTo("nginx.ingress.kubernetes.io");
        assertThat(o.accessLog()).isEqualTo("stdout");
        assertThat(o.shutdownGracePeriod()).isEqualTo(Duration.ofSeconds(10));
        assertThat(o.shutdownTimeout()).isEqualTo(Duration.ofSeconds(300));
        assertThat(o.kubeconfig()).isNull();
        assertThat(o.watchNamespace()).isNull();
        assertThat(o.publishStatusAddress()).isNull();
        assertThat(o.publishService()).isNull();
        assertThat(o.electionId()).isEqualTo("sluice-leader"); // Sluice's own Lease, as deploy/base
        assertThat(o.updateStatusOnShutdown()).isTrue();
        assertThat(o.configMap()).isNull();
        assertThat(o.proxyProtocol()).isFalse();
        assertThat(o.transport()).isEqualTo("auto");
        assertThat(o.maxConnections()).isZero();
        assertThat(o.maxConnectionsPerAddress()).isZero();
    }

    @Test
    void everyFlagIsRead() throws Exception {
        Path a = Files.createDirectory(dir.resolve("a"));
        Path b = Files.writeString(dir.resolve("b.yaml"), "");
        Path c = Files.writeString(dir.resolve("c.yaml"), "");
        Path log = dir.resolve("access.log");

        SluiceOptions o = Main.parse(
                "--http-port=8080", "--https-port", "8443", "--healthz-port=0", "--bind-address=127.0.0.1",
                "--event-loops=3", "--manifests", a.toString(), "--manifests=" + b + "," + c,
                "--ingress-class=internal", "--controller-class=example.com/sluice", "--watch-ingress-without-class",
                "--default-backend-service=ingress-nginx/fallback", "--annotations-prefix=example.com",
                "--access-log=" + log, "--shutdown-grace-period=500ms", "--kubeconfig=/tmp/kubeconfig",
                "--watch-namespace=shop", "--publish-status-address=10.0.0.1,10.0.0.2",
                "--publish-service=ingress-nginx/ingress-nginx-controller", "--election-id=sluice-leader",
                "--update-status-on-shutdown=false", "--configmap=ingress-nginx/ingress-nginx-controller",
                "--enable-proxy-protocol");

        assertThat(o.httpPort()).isEqualTo(8080);
        assertThat(o.httpsPort()).isEqualTo(8443);
        assertThat(o.healthzPort()).isZero();
        assertThat(o.bindAddress()).isEqualTo("127.0.0.1");
        assertThat(o.eventLoops()).isEqualTo(3);
        assertThat(o.manifests()).containsExactly(a, b, c);
        assertThat(o.mode()).isEqualTo(SluiceOptions.Mode.MANIFESTS);
        assertThat(o.translatorConfig().ingressClass()).isEqualTo("internal");
        assertThat(o.translatorConfig().controllerClass()).isEqualTo("example.com/sluice");
        assertThat(o.translatorConfig().watchIngressWithoutClass()).isTrue();
        assertThat(o.translatorConfig().defaultBackendService()).isEqualTo("ingress-nginx/fallback");
        assertThat(o.translatorConfig().annotationsPrefix()).isEqualTo("example.com");
        assertThat(o.accessLog()).isEqualTo(log.toString());
        assertThat(o.shutdownGracePeriod()).isEqualTo(Duration.ofMillis(500));
        assertThat(o.kubeconfig()).isEqualTo(Path.of("/tmp/kubeconfig"));
        assertThat(o.watchNamespace()).isEqualTo("shop");
        assertThat(o.publishStatusAddress()).isEqualTo("10.0.0.1,10.0.0.2");
        assertThat(o.publishService()).isEqualTo("ingress-nginx/ingress-nginx-controller");
        assertThat(o.electionId()).isEqualTo("sluice-leader");
        assertThat(o.updateStatusOnShutdown()).isFalse();
        assertThat(o.configMap()).isEqualTo("ingress-nginx/ingress-nginx-controller");
        assertThat(o.proxyProtocol()).isTrue();
    }

    @Test
    void connectionCapsAreRead() {
        SluiceOptions o = Main.parse("--max-connections=10000", "--max-connections-per-address", "64");
        assertThat(o.maxConnections()).isEqualTo(10000);
        assertThat(o.maxConnectionsPerAddress()).isEqualTo(64);
    }

    @Test
    void booleansAcceptGoStyleValues() {
        assertThat(Main.parse("--watch-ingress-without-class=true").watchIngressWithoutClass()).isTrue();
        assertThat(Main.parse("--watch-ingress-without-class=false").watchIngressWithoutClass()).isFalse();
        assertThat(Main.parse("--update-status-on-shutdown").updateStatusOnShutdown()).isTrue();
        assertThat(Main.parse("--demo").mode()).isEqualTo(SluiceOptions.Mode.DEMO);
        assertThat(Main.parse("--demo=false").mode()).isEqualTo(SluiceOptions.Mode.CLUSTER);
        assertThat(Main.parse("--enable-proxy-protocol=true").proxyProtocol()).isTrue();
        assertThat(Main.parse("--enable-proxy-protocol=false").proxyProtocol()).isFalse();
    }

    @Test
    void demoWinsOverManifestsAndKeepsThem() {
        SluiceOptions o = Main.parse("--demo", "--manifests", dir.toString());
        assertThat(o.mode()).isEqualTo(SluiceOptions.Mode.DEMO);
        assertThat(o.manifests()).containsExactly(dir);
    }

    @Test
    void accessLogTakesStdoutOffOrAFile() {
        assertThat(Main.parse("--access-log=off").accessLog()).isEqualTo("off");
        assertThat(Main.parse("--access-log", "stdout").accessLog()).isEqualTo("stdout");
        assertThatThrownBy(() -> Main.parse("--access-log=" + dir.resolve("missing/dir/access.log")))
                .isInstanceOf(ParameterException.class).hasMessageContaining("cannot write");
        assertThatThrownBy(() -> Main.parse("--access-log=" + dir))
                .isInstanceOf(ParameterException.class).hasMessageContaining("cannot write");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--http-port=abc              | Invalid value for option '--http-port'",
        "--http-port=70000            | --http-port must be 0..65535",
        "--healthz-port=-1            | --healthz-port must be 0..65535",
        "--event-loops=0              | --event-loops must be at least 1",
        "--shutdown-grace-period=5x   | invalid duration \"5x\"",
        "--shutdown-grace-period=-1s  | invalid duration \"-1s\"",
        "--shutdown-timeout=later     | invalid duration \"later\"",
        "--default-backend-service=x  | 'x' is not namespace/name",
        "--publish-service=a/b/c      | 'a/b/c' is not namespace/name",
        "--configmap=/name            | is not namespace/name",
        "--tcp-services-configmap=tcp | is not namespace/name",
        "--udp-services-configmap=a/  | is not namespace/name",
        "--manifests=/no/such/path    | /no/such/path does not exist",
        "--bind-address=no.such.host.invalid | unknown address",
        "--watch-ingress-without-class=maybe | Invalid value",
        "--no-such-flag               | Unknown option: '--no-such-flag'",
        "--max-connections=-1         | --max-connections / --max-connections-per-address must not be negative",
        "--transport=kqueue           | --transport: unknown transport 'kqueue' (expected one of auto, io_uring, epoll, nio)",
    })
    void invalidFlagsExitWithCode2AndSayWhyInOneLinePlusAPointerToHelp(String arg, String message) {
        StringWriter err = new StringWriter();
        CommandLine cmd = Main.commandLine(new Main());
        cmd.setErr(new PrintWriter(err));
        cmd.setOut(new PrintWriter(new StringWriter()));

        int code = cmd.execute(arg);

        assertThat(code).isEqualTo(2);
        assertThat(err.toString().lines().toList()).hasSize(2).last().isEqualTo(Main.SEE_HELP);
        assertThat(err.toString()).contains(message).doesNotContain("Usage: sluice");
    }

    @Test
    void helpListsEveryFlagAndExitsWith0() {
        StringWriter out = new StringWriter();
        CommandLine cmd = Main.commandLine(new Main());
        cmd.setOut(new PrintWriter(out));

        assertThat(cmd.execute("--help")).isZero();
        assertThat(out.toString()).contains(
                "--http-port", "--https-port", "--healthz-port", "--bind-address", "--event-loops", "--manifests",
                "--demo", "--ingress-class", "--controller-class", "--watch-ingress-without-class",
                "--default-backend-service", "--annotations-prefix", "--access-log", "--shutdown-grace-period",
                "--shutdown-timeout", "default: 300s",
                "--kubeconfig", "--watch-namespace", "--publish-status-address", "--publish-service",
                "--election-id", "--update-status-on-shutdown", "--configmap", "--enable-proxy-protocol", "--version",
                "--tcp-services-configmap", "--udp-services-configmap",
                "default: 31234", "default: 10s");
    }
}
