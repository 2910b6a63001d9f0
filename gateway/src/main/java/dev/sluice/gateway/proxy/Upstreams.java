package dev.sluice.gateway.proxy;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.UpstreamTls;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import java.time.Duration;

/**
 * Where a {@link ProxyExchange} gets its upstream connections on one event loop: the
 * {@link UpstreamPool} of that loop in production, a fake handing out embedded channels in
 * tests. Every connection it hands out ends its pipeline with an {@link UpstreamHandler}
 * ({@link UpstreamPool#initPipeline}) and is registered on the same loop as the client.
 * Connections are kept and handed out by {@link UpstreamKey}: endpoint and TLS settings.
 */
interface Upstreams {
    /** The key of connections to {@code endpoint} with these settings (an equal one may be shared). */
    default UpstreamKey key(Endpoint endpoint, UpstreamTls tls, int responseHeaderLimit) {
        return new UpstreamKey(endpoint, tls, responseHeaderLimit);
    }

    /** A live idle connection for {@code key}, or {@code null}; the caller owns it. */
    Channel acquire(UpstreamKey key);

    /**
     * Opens a new connection; the caller attaches its exchange when it completes. For a TLS key
     * the future completes once the handshake has: a failed handshake (or verification) fails it
     * like a refused connect.
     */
    ChannelFuture connect(UpstreamKey key, Duration connectTimeout);

    /** Takes back a connection whose last response was read completely and that may be reused. */
    void release(UpstreamKey key, Channel ch);

    /** Forgets a connection that closed while idle. */
    void remove(UpstreamKey key, Channel ch);
}
