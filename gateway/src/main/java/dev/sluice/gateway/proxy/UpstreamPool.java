package dev.sluice.gateway.proxy;

import dev.sluice.gateway.request.Endpoint;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Idle keep-alive connections to upstream endpoints, owned by one event loop.
 *
 * <p>Every method runs on that loop (connections made here are registered on it, and requests
 * that use them are handled on it), so nothing is locked or handed between threads — the
 * per-worker {@code keepalive} cache of NGINX. Connections are reused last-in first-out (the
 * warmest one), at most {@link #MAX_IDLE_PER_ENDPOINT} are kept per endpoint, and an idle one is
 * closed after {@link #IDLE_TIMEOUT} (NGINX's {@code keepalive_timeout 60s} for upstreams) or as
 * soon as the upstream closes it.
 */
final class UpstreamPool implements Upstreams {
    /** ingress-nginx's {@code upstream-keepalive-connections} (320 per worker). */
    static final int MAX_IDLE_PER_ENDPOINT = 320;
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(60);

    private final EventLoop loop;
    private final Transport transport;
    private final Map<Endpoint, ArrayDeque<Channel>> idle = new HashMap<>();
    private final Map<Endpoint, InetSocketAddress> addresses = new HashMap<>();
    private boolean closed;

    UpstreamPool(EventLoop loop, Transport transport) {
        this.loop = loop;
        this.transport = transport;
    }

    EventLoop loop() {
        return loop;
    }

    @Override
    public Channel acquire(Endpoint endpoint) {
        ArrayDeque<Channel> q = idle.get(endpoint);
        if (q == null) {
            return null;
        }
        Channel ch;
        while ((ch = q.pollLast()) != null) {
            if (ch.isActive()) {
                return ch;
            }
            ch.close();
        }
        return null;
    }

    /** Opens a new connection on this loop; the caller attaches its exchange when it completes. */
    @Override
    public ChannelFuture connect(Endpoint endpoint, Duration connectTimeout) {
        InetSocketAddress address = addresses.get(endpoint);
        if (address == null) {
            address = resolve(endpoint);
            if (addresses.size() > 10_000) {
                addresses.clear(); // endpoints churn with Pods; keep the cache bounded
            }
            addresses.put(endpoint, address);
        }
        int timeoutMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
        return new Bootstrap()
                .group(loop)
                .channel(transport.socketChannel())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        initPipeline(ch.pipeline(), UpstreamPool.this, endpoint);
                    }
                })
                .connect(address);
    }

    /** The handlers of every upstream connection: idle close, HTTP/1.1 codec, {@link UpstreamHandler}. */
    static void initPipeline(ChannelPipeline p, Upstreams owner, Endpoint endpoint) {
        p.addLast("idle", new IdleStateHandler(0, 0, IDLE_TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        p.addLast("codec", new HttpClientCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(8192)
                .setMaxHeaderSize(64 * 1024)
                .setMaxChunkSize(64 * 1024), false, false));
        p.addLast("upstream", new UpstreamHandler(owner, endpoint));
    }

    @Override
    public void release(Endpoint endpoint, Channel ch) {
        if (closed || !ch.isActive()) {
            ch.close();
            return;
        }
        ArrayDeque<Channel> q = idle.computeIfAbsent(endpoint, e -> new ArrayDeque<>());
        if (q.size() >= MAX_IDLE_PER_ENDPOINT) {
            ch.close();
            return;
        }
        q.addLast(ch);
        ch.read(); // notice the upstream closing it while idle
    }

    @Override
    public void remove(Endpoint endpoint, Channel ch) {
        ArrayDeque<Channel> q = idle.get(endpoint);
        if (q != null) {
            q.remove(ch);
            if (q.isEmpty()) {
                idle.remove(endpoint);
            }
        }
    }

    /** How many idle connections the pool holds (tests, metrics). */
    int idleCount() {
        int n = 0;
        for (ArrayDeque<Channel> q : idle.values()) {
            n += q.size();
        }
        return n;
    }

    /** Closes every idle connection and refuses new ones; runs on the loop. */
    void close() {
        closed = true;
        for (ArrayDeque<Channel> q : idle.values()) {
            for (Channel ch : q.toArray(new Channel[0])) {
                ch.close();
            }
        }
        idle.clear();
    }

    static InetSocketAddress resolve(Endpoint endpoint) {
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(endpoint.address());
        try {
            if (ip != null) {
                // an IP literal: no DNS lookup on the event loop
                return new InetSocketAddress(InetAddress.getByAddress(ip), endpoint.port());
            }
        } catch (UnknownHostException e) {
            // cannot happen for a 4- or 16-byte address; fall through to resolution
        }
        // A host name (e.g. an ExternalName Service): Netty resolves it when connecting.
        return InetSocketAddress.createUnresolved(endpoint.address(), endpoint.port());
    }
}
