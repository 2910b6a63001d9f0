package dev.sluice.gateway.proxy;

import dev.sluice.gateway.request.Endpoint;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import java.time.Duration;

/**
 * Where a {@link ProxyExchange} gets its upstream connections on one event loop: the
 * {@link UpstreamPool} of that loop in production, a fake handing out embedded channels in
 * tests. Every connection it hands out ends its pipeline with an {@link UpstreamHandler}
 * ({@link UpstreamPool#initPipeline}) and is registered on the same loop as the client.
 */
interface Upstreams {
    /** A live idle connection to {@code endpoint}, or {@code null}; the caller owns it. */
    Channel acquire(Endpoint endpoint);

    /** Opens a new connection; the caller attaches its exchange when it completes. */
    ChannelFuture connect(Endpoint endpoint, Duration connectTimeout);

    /** Takes back a connection whose last response was read completely and that may be reused. */
    void release(Endpoint endpoint, Channel ch);

    /** Forgets a connection that closed while idle. */
    void remove(Endpoint endpoint, Channel ch);
}
