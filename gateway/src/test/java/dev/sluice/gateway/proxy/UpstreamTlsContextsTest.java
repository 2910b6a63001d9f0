package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.proxy.TestRoutes.backend;
import static dev.sluice.gateway.proxy.TestRoutes.host;
import static dev.sluice.gateway.proxy.TestRoutes.prefix;
import static dev.sluice.gateway.proxy.TestRoutes.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.BackendProtocol;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RouteTableHolder;
import dev.sluice.gateway.route.UpstreamTls;
import io.netty.handler.ssl.SslContext;
import org.junit.jupiter.api.Test;

/**
 * One client TLS context per distinct {@link UpstreamTls} of the live table, built before
 * publishing and kept across republishing (which is what lets TLS sessions resume), and the
 * name check of {@link UpstreamTrustManager}.
 */
class UpstreamTlsContextsTest {
    private static final Endpoint POD = Endpoint.of("127.0.0.2", 8443);

    private static RouteTable tableWith(UpstreamTls a, BackendProtocol pa, UpstreamTls b, BackendProtocol pb) {
        return table(host("a.test", prefix("/", "default/a", backend("a", POD),
                        RouteOptions.DEFAULTS.withBackendProtocol(pa).withUpstreamTls(a))),
                host("b.test", prefix("/", "default/b", backend("b", POD),
                        RouteOptions.DEFAULTS.withBackendProtocol(pb).withUpstreamTls(b))));
    }

    private static UpstreamTls named(String name) {
        return new UpstreamTls(null, null, null, null, false, 1, name, true, UpstreamTls.DEFAULT_PROTOCOLS, null);
    }

    @Test
    void contextsAreBuiltAtPublishOncePerDistinctSettingsAndKeptWhileUsed() {
        RouteTableHolder holder = new RouteTableHolder();
        UpstreamTlsContexts contexts = new UpstreamTlsContexts(holder);
        assertThat(contexts.size()).isZero();

        holder.publish(tableWith(named("x.test"), BackendProtocol.HTTPS, named("x.test"), BackendProtocol.AUTO_HTTP));
        assertThat(contexts.size()).as("equal settings share one context").isEqualTo(1);
        SslContext first = contexts.get(named("x.test"));

        holder.publish(tableWith(named("x.test"), BackendProtocol.HTTPS, named("y.test"), BackendProtocol.HTTPS));
        assertThat(contexts.size()).isEqualTo(2);
        assertThat(contexts.get(named("x.test"))).as("republishing keeps the context (and its sessions)")
                .isSameAs(first);

        holder.publish(tableWith(named("x.test"), BackendProtocol.HTTP, named("y.test"), BackendProtocol.GRPC));
        assertThat(contexts.size()).as("clear locations need no context").isZero();
    }

    @Test
    void verificationWithoutCasCannotBuildAContextAndNeverFallsBackToNone() {
        UpstreamTls verifyWithoutCa = new UpstreamTls(null, null, null, null, true, 1, null, false,
                UpstreamTls.DEFAULT_PROTOCOLS, null);
        assertThatThrownBy(() -> new UpstreamTlsContexts().get(verifyWithoutCa))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ca.crt");
    }

    @Test
    void namesMatchAsOpenSslChecksHosts() {
        TestPki.Issued ca = TestPki.ca("CN=CA");
        TestPki.Issued sans = TestPki.server("CN=ignored.test", ca, "pod.svc.test", "*.wild.test", "10.1.2.3");
        assertThat(UpstreamTrustManager.matches(sans.certificate(), "pod.svc.test")).isTrue();
        assertThat(UpstreamTrustManager.matches(sans.certificate(), "POD.svc.test.")).isTrue();
        assertThat(UpstreamTrustManager.matches(sans.certificate(), "a.wild.test")).isTrue();
        assertThat(UpstreamTrustManager.matches(sans.certificate(), "a.b.wild.test")).as("one label").isFalse();
        assertThat(UpstreamTrustManager.matches(sans.certificate(), "wild.test")).isFalse();
        assertThat(UpstreamTrustManager.matches(sans.certificate(), "ignored.test"))
                .as("no CN fallback when there are DNS SANs").isFalse();
        assertThat(UpstreamTrustManager.matches(sans.certificate(), "10.1.2.3")).isTrue();
        assertThat(UpstreamTrustManager.matches(sans.certificate(), "10.1.2.4")).isFalse();

        TestPki.Issued cnOnly = TestPki.server("CN=legacy.test", ca);
        assertThat(UpstreamTrustManager.matches(cnOnly.certificate(), "legacy.test")).isTrue();
        assertThat(UpstreamTrustManager.matches(cnOnly.certificate(), "other.test")).isFalse();
    }
}
