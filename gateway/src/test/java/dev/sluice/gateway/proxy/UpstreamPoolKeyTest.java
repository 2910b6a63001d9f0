package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.UpstreamTls;
import io.netty.channel.DefaultEventLoop;
import io.netty.resolver.DefaultAddressResolverGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pool's keys: a request to an endpoint it served before with the same settings gets the
 * same key (no allocation per request); any other setting gets a key of its own, so connections
 * are still never shared across TLS settings or header limits.
 */
class UpstreamPoolKeyTest {
    private final DefaultEventLoop loop = new DefaultEventLoop();
    private final UpstreamPool pool = new UpstreamPool(loop, Transport.select("nio"), new UpstreamTlsContexts(),
            DefaultAddressResolverGroup.INSTANCE);

    @AfterEach
    void stop() {
        loop.shutdownGracefully();
    }

    @Test
    void theSameSettingsShareAKeyAndOtherSettingsDoNot() {
        Endpoint a = Endpoint.of("10.0.0.1", 8080);
        Endpoint b = Endpoint.of("10.0.0.2", 8080);

        UpstreamKey clear = pool.key(a, null, 4096);
        assertThat(pool.key(a, null, 4096)).isSameAs(clear);
        assertThat(pool.key(Endpoint.of("10.0.0.1", 8080), null, 4096)).isEqualTo(clear);

        UpstreamKey tls = pool.key(a, UpstreamTls.DEFAULTS, 4096);
        assertThat(tls).isNotEqualTo(clear);
        assertThat(tls.tls()).isSameAs(UpstreamTls.DEFAULTS);
        assertThat(pool.key(a, UpstreamTls.DEFAULTS, 8192)).isNotEqualTo(tls)
                .extracting(UpstreamKey::responseHeaderLimit).isEqualTo(8192);
        assertThat(pool.key(b, null, 4096)).isEqualTo(new UpstreamKey(b, null, 4096));
        assertThat(pool.key(a, null, 4096)).isEqualTo(clear).extracting(UpstreamKey::tls).isNull();
    }
}
