package dev.sluice.gateway.stream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TCP and UDP stream ports (ingress-nginx's {@code tcp-services} / {@code udp-services}): keeps
 * one listener open per service of the live {@link StreamTable}, on the HTTP proxy's event loops.
 *
 * <p>{@link #apply} reconciles the open listeners with a table, on the publishing thread, just
 * before the table goes live: a listener whose entry is gone is closed together with its
 * connections and sessions; a new entry's port is bound; a listener whose entry changed keeps its
 * port and connections, and its new endpoints and flags apply to new connections. A port that
 * cannot be bound (in use, no permission) is logged and counted
 * ({@code sluice_stream_listen_failures}) and tried again with the next table; it never stops the
 * process or the other listeners.
 */
public final class StreamServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StreamServer.class);

    /** How long a connect to an endpoint may take ({@code proxy_connect_timeout} of ingress-nginx's streams). */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** A TCP connection with no byte either way for this long is closed ({@code proxy-stream-timeout}). */
    public static final Duration TCP_IDLE_TIMEOUT = Duration.ofSeconds(600);
    /** A UDP session with no datagram either way for this long ends. */
    public static final Duration UDP_SESSION_TIMEOUT = Duration.ofSeconds(60);
    /** UDP sessions per port; datagrams from further client addresses are dropped. */
    public static final int MAX_UDP_SESSIONS = 16_384;

    private final EventLoopGroup group;
    private final StreamChannels channels;
    private final String bindAddress;
    private final MeterRegistry registry;
    private final Duration udpSessionTimeout;
    private final Map<StreamService.Key, StreamListener> listeners = new HashMap<>(); // guarded by this
    private final Set<StreamService.Key> failing = new HashSet<>(); // guarded by this
    private boolean applied; // guarded by this
    private boolean closed; // guarded by this

    /**
     * @param group             the event loops (those of the HTTP proxy)
     * @param channels          the channel classes of their transport
     * @param bindAddress       the address every stream port binds to ({@code --bind-address})
     * @param registry          where the {@code sluice_stream_*} meters go
     * @param udpSessionTimeout how long an idle UDP session lives
     */
    public StreamServer(EventLoopGroup group, StreamChannels channels, String bindAddress, MeterRegistry registry,
            Duration udpSessionTimeout) {
        this.group = Objects.requireNonNull(group, "group");
        this.channels = Objects.requireNonNull(channels, "channels");
        this.bindAddress = Objects.requireNonNull(bindAddress, "bindAddress");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.udpSessionTimeout = Objects.requireNonNull(udpSessionTimeout, "udpSessionTimeout");
        Gauge.builder("sluice_stream_listeners", this, StreamServer::listenerCount)
                .description("open TCP and UDP stream ports").register(registry);
    }

    /** Opens, updates and closes listeners so that exactly the services of {@code table} are served. */
    public synchronized void apply(StreamTable table) {
        if (closed) {
            return;
        }
        applied = true;
        Map<StreamService.Key, StreamService> wanted = new LinkedHashMap<>();
        for (StreamService s : table.services()) {
            wanted.put(s.key(), s);
        }
        for (var it = listeners.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!wanted.containsKey(e.getKey())) {
                e.getValue().close();
                it.remove();
                log.info("stream port {} closed", e.getKey());
            }
        }
        failing.retainAll(wanted.keySet());
        for (StreamService s : wanted.values()) {
            StreamListener open = listeners.get(s.key());
            if (open != null) {
                if (!open.service().equals(s)) {
                    open.update(s);
                    log.info("stream port {} now relays to {} {} (new connections)", s.key(), s.backend(), s.endpoints());
                }
                continue;
            }
            StreamListener l = open(s);
            if (l != null) {
                listeners.put(s.key(), l);
            }
        }
    }

    /**
     * {@link #apply}s {@code table} unless some table was applied already: for the table that was
     * live before this server started (a later table is never overwritten by an older one).
     */
    public synchronized void applyIfNothingApplied(StreamTable table) {
        if (!applied) {
            apply(table);
        }
    }

    /** The open ports and their bound port numbers (the requested one unless it was 0). */
    public synchronized Map<StreamService.Key, Integer> listening() {
        Map<StreamService.Key, Integer> out = new TreeMap<>(java.util.Comparator
                .comparing(StreamService.Key::protocol).thenComparingInt(StreamService.Key::port));
        listeners.forEach((k, l) -> out.put(k, ((InetSocketAddress) l.channel().localAddress()).getPort()));
        return out;
    }

    private synchronized int listenerCount() {
        return listeners.size();
    }

    private StreamListener open(StreamService s) {
        StreamListener l = s.protocol() == StreamProtocol.TCP ? new TcpListener(s) : new UdpListener(s);
        ChannelFuture f = l instanceof TcpListener t ? t.bind() : ((UdpListener) l).bind();
        f.awaitUninterruptibly();
        if (!f.isSuccess()) {
            Counter.builder("sluice_stream_listen_failures")
                    .description("stream ports that could not be bound (retried with the next table)")
                    .tags(StreamListener.tags(s.key())).register(registry).increment();
            String why = String.valueOf(f.cause().getMessage());
            if (failing.add(s.key())) {
                log.warn("cannot listen on stream port {} at {} ({}); tried again with the next table", s.key(),
                        bindAddress, why);
            } else {
                log.debug("still cannot listen on stream port {}: {}", s.key(), why);
            }
            return null;
        }
        failing.remove(s.key());
        l.bound(f.channel());
        log.info("stream port {} open on {}: relays to {} {}{}{}", s.key(), bindAddress, s.backend(), s.endpoints(),
                s.proxyProtocolIn() ? ", decodes PROXY" : "", s.proxyProtocolOut() ? ", sends PROXY" : "");
        return l;
    }

    /**
     * Stops accepting on every stream port (draining): open TCP connections go on until
     * {@link #close()}; no later table opens a port again.
     */
    public synchronized void stopListening() {
        closed = true;
        for (StreamListener l : listeners.values()) {
            if (l.channel() != null) {
                l.channel().close().awaitUninterruptibly();
            }
        }
    }

    /** Closes every stream port, connection and session. */
    @Override
    public synchronized void close() {
        closed = true;
        for (StreamListener l : listeners.values()) {
            l.close();
        }
        listeners.clear();
    }

    /** A TCP port: every accepted connection gets its own {@link TcpRelay}. */
    private final class TcpListener extends StreamListener {
        private final ChannelGroup connections = new DefaultChannelGroup("sluice-stream", GlobalEventExecutor.INSTANCE);

        TcpListener(StreamService s) {
            super(s, channels, registry);
        }

        ChannelFuture bind() {
            return new ServerBootstrap()
                    .group(group)
                    .channel(channels.server())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, MultiAccept.allocator())
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            StreamService s = service(); // one read: this connection keeps this service
                            connections.add(ch);
                            ch.pipeline().addLast("idle", new IdleStateHandler(0, 0, TCP_IDLE_TIMEOUT.toSeconds(),
                                    TimeUnit.SECONDS));
                            if (s.proxyProtocolIn()) {
                                ch.pipeline().addLast("proxy-protocol", new HAProxyMessageDecoder());
                            }
                            ch.pipeline().addLast("relay", new TcpRelay(TcpListener.this, s));
                        }
                    })
                    .bind(bindAddress, service().port());
        }

        @Override
        void close() {
            if (channel() != null) {
                channel().close().awaitUninterruptibly();
            }
            connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    /** A UDP port: datagrams are relayed per client address by one {@link UdpRelay}. */
    private final class UdpListener extends StreamListener {
        UdpListener(StreamService s) {
            super(s, channels, registry);
        }

        ChannelFuture bind() {
            return new Bootstrap()
                    .group(group)
                    .channel(channels.datagram())
                    .handler(new UdpRelay(this, udpSessionTimeout, MAX_UDP_SESSIONS))
                    .bind(bindAddress, service().port());
        }

        @Override
        void close() {
            if (channel() != null) {
                channel().close().awaitUninterruptibly(); // its relay closes the sessions
            }
        }
    }
}
