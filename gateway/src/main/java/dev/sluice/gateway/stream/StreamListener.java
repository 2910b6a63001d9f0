package dev.sluice.gateway.stream;

import dev.sluice.gateway.request.Endpoint;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.Channel;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One open stream port and the service it relays to. The service is swapped in place when a new
 * table changes its endpoints or flags (new connections and sessions see the new one, open ones
 * keep theirs); the round-robin cursor lives here, so republishing a table does not restart the
 * rotation.
 */
abstract class StreamListener {
    private final StreamChannels channels;
    private final AtomicInteger cursor = new AtomicInteger();
    private final Counter accepted;
    private final MeterRegistry registry;
    private volatile StreamService service;
    private Channel channel; // set once bound, by the thread that opens it

    StreamListener(StreamService service, StreamChannels channels, MeterRegistry registry) {
        this.service = service;
        this.channels = channels;
        this.registry = registry;
        this.accepted = Counter.builder("sluice_stream_connections")
                .description("TCP connections accepted and UDP sessions opened on stream ports")
                .tags(tags(service.key()))
                .register(registry);
    }

    static String[] tags(StreamService.Key key) {
        return new String[] {"protocol", key.protocol().name().toLowerCase(java.util.Locale.ROOT),
            "port", Integer.toString(key.port())};
    }

    StreamService service() {
        return service;
    }

    void update(StreamService s) {
        this.service = s;
    }

    StreamChannels channels() {
        return channels;
    }

    void bound(Channel ch) {
        this.channel = ch;
    }

    Channel channel() {
        return channel;
    }

    /**
     * The next endpoint of the rotation (strict round robin per new connection or session), or
     * {@code null} when {@code s} has none.
     */
    Endpoint next(StreamService s) {
        List<Endpoint> eps = s.endpoints();
        return eps.isEmpty() ? null : eps.get(Math.floorMod(cursor.getAndIncrement(), eps.size()));
    }

    void accepted() {
        accepted.increment();
    }

    /** Counts traffic refused: {@code no_endpoints}, {@code connect_failed}, {@code session_limit}. */
    void rejected(String reason) {
        Counter.builder("sluice_stream_rejected")
                .description("stream connections closed and datagrams dropped without reaching an endpoint")
                .tags(tags(service.key())).tag("reason", reason)
                .register(registry).increment();
    }

    /** Closes the port and every connection or session it opened; waits for the port to close. */
    abstract void close();
}
