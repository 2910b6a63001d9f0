package dev.sluice.loadtest;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.HdrHistogram.Histogram;

/**
 * A fixed-rate HTTP/1.1 load generator that reports latency without coordinated omission: each
 * request has an intended send time on a fixed schedule, and its latency runs from that time, so a
 * stall of the proxy counts against every request that should have been sent during it (wrk, which
 * sends the next request only when the last answered, hides such stalls).
 *
 * <p>Requests are spread round-robin over {@code connections} keep-alive connections, one in
 * flight per connection; a request whose connection is still busy waits in that connection's
 * queue, its clock already running. One event loop; pin it with {@code taskset}.
 *
 * <pre>{@code
 * java -cp controller/target/sluice.jar:loadtest/target/classes dev.sluice.loadtest.FixedRateLoad \
 *     URL HOST RATE SECONDS CONNECTIONS [WARMUP_SECONDS]
 * }</pre>
 * <p>The first {@code WARMUP_SECONDS} run the same schedule unrecorded; then the generator waits
 * until every warm-up request has been answered and starts the recorded schedule afresh, so the
 * recording never inherits a backlog of the warm-up (the generator's own JIT compilations and first
 * collections share its CPU with the backend's, and once slowed it can take seconds to catch up).
 *
 * <p>Prints one line: {@code rate=… sent=… ok=… errors=… p50_ms=… p90_ms=… p99_ms=… p999_ms=… max_ms=…
 * lag_max_ms=… drain_ms=…}, followed by {@code slow_conns=… slowest=… slow_s=…} when any request took 50 ms or
 * more (which connections and which seconds: see {@link #slowConnections}). {@code lag_max_ms} is the
 * generator's own delay: how late, at most, it got round to sending a request whose time had come. A
 * stall with a large lag is the load side's (its CPU, its event loop), not the target's. {@code drain_ms}
 * is how long after the warm-up's schedule ended its last request was answered (a backlog left by the
 * warm-up shows here, not in the recording).
 */
public final class FixedRateLoad {
    /** A request this slow counts towards its connection's slow ones (see {@link #slowConnections}). */
    private static final long SLOW_NANOS = 50_000_000;
    /** The longest wait for the warm-up's requests to be answered before recording starts anyway. */
    private static final int DRAIN_LIMIT_SECONDS = 10;
    /** The longest wait for the recorded requests to be answered before the report counts them as errors. */
    private static final int FINAL_DRAIN_LIMIT_SECONDS = 5;

    private final Histogram latencies = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    private final ByteBuf request;
    private final List<Connection> conns = new ArrayList<>();
    private EventLoop loop;
    private long periodNanos;
    private long ok;
    private long errors;
    private long sent;
    private boolean recording;
    private long recordFrom = Long.MAX_VALUE;
    private long warmupFrom;
    /** How long after the warm-up's schedule ended its last request was answered. */
    private long drainNanos;
    /** Longest delay between a request's intended send time and the tick that sent it (recorded part). */
    private long maxLag;
    /** Requests of {@link #SLOW_NANOS} or more by second of their intended send, warm-up's first. */
    private int[] slowBySecond = new int[0];
    private int warmupSeconds;
    /** Wall-clock time of {@link #recordFrom}, to line slow seconds up with other records. */
    private LocalTime recordFromClock;

    private FixedRateLoad(String host, String path) {
        request = Unpooled.unreleasableBuffer(Unpooled.directBuffer().writeBytes(
                ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: FixedRateLoad URL HOST RATE SECONDS CONNECTIONS [WARMUP_SECONDS]");
            System.exit(2);
        }
        int warmup = args.length > 5 ? Integer.parseInt(args[5]) : 0;
        System.out.println(measure(URI.create(args[0]), args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                Integer.parseInt(args[4]), warmup));
    }

    /** One measurement, as {@link #main} runs it; returns the line it prints. */
    static String measure(URI url, String host, int rate, int seconds, int connections, int warmup) throws Exception {
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = epoll ? new EpollEventLoopGroup(1) : new NioEventLoopGroup(1);
        try {
            FixedRateLoad load = new FixedRateLoad(host, url.getRawPath().isEmpty() ? "/" : url.getRawPath());
            return load.run(group, epoll, url, rate, seconds, connections, warmup);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** One connection: a queue of intended send times, one request in flight. */
    private final class Connection extends SimpleChannelInboundHandler<HttpObject> {
        private final ArrayDeque<Long> waiting = new ArrayDeque<>();
        private Channel channel;
        private long inFlightSince = -1;
        private int status;
        /** Recorded requests of this connection that took at least {@link #SLOW_NANOS}, and when (intended). */
        private int slow;
        private long firstSlow;
        private long lastSlow;
        private long maxLatency;

        /** Requests waiting or in flight on this connection. */
        int outstanding() {
            return waiting.size() + (inFlightSince >= 0 ? 1 : 0);
        }

        void submit(long intendedNanos) {
            if (channel == null || !channel.isActive()) {
                if (recording) {
                    errors++;
                }
                return;
            }
            waiting.add(intendedNanos);
            sendNext();
        }

        private void sendNext() {
            if (inFlightSince >= 0 || waiting.isEmpty()) {
                return;
            }
            inFlightSince = waiting.poll();
            channel.writeAndFlush(request.retainedDuplicate(), channel.voidPromise());
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpResponse r) {
                status = r.status().code();
            }
            if (msg instanceof LastHttpContent) {
                long latency = System.nanoTime() - inFlightSince;
                if (inFlightSince >= recordFrom) { // warm-up requests answered late do not count
                    if (status == 200) {
                        ok++;
                        latencies.recordValue(Math.min(latency, latencies.getHighestTrackableValue()));
                        maxLatency = Math.max(maxLatency, latency);
                        if (latency >= SLOW_NANOS) {
                            if (slow++ == 0) {
                                firstSlow = inFlightSince;
                            }
                            lastSlow = inFlightSince;
                        }
                    } else {
                        errors++;
                    }
                }
                if (latency >= SLOW_NANOS) {
                    // warm-up seconds too (counted from the warm-up's start), to see a backlog form there
                    int slot = inFlightSince >= recordFrom
                            ? warmupSeconds + (int) Math.floorDiv(inFlightSince - recordFrom, 1_000_000_000L)
                            : (int) Math.floorDiv(inFlightSince - warmupFrom, 1_000_000_000L);
                    if (slot >= 0 && slot < slowBySecond.length) {
                        slowBySecond[slot]++;
                    }
                }
                inFlightSince = -1;
                sendNext();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (recording) {
                errors += waiting.stream().filter(t -> t >= recordFrom).count() + (inFlightSince >= recordFrom ? 1 : 0);
            }
            waiting.clear();
            inFlightSince = -1;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private String run(EventLoopGroup group, boolean epoll, URI url, int rate, int seconds, int connections,
            int warmup) throws Exception {
        for (int i = 0; i < connections; i++) {
            Connection c = new Connection();
            Bootstrap b = new Bootstrap().group(group)
                    .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpResponseDecoder(), c); // requests go out as prepared bytes
                        }
                    });
            c.channel = b.connect(url.getHost(), url.getPort()).sync().channel();
            conns.add(c);
        }
        loop = group.next();
        periodNanos = TimeUnit.SECONDS.toNanos(1) / rate;
        warmupSeconds = warmup;
        slowBySecond = new int[warmup + seconds];
        CompletableFuture<Void> answered = new CompletableFuture<>();
        // the recording starts on a fresh schedule once the warm-up's requests have all been answered:
        // a backlog the warm-up left (a cold load generator sharing its CPU) must not count as the target's
        Runnable record = () -> {
            recordFrom = System.nanoTime();
            recordFromClock = LocalTime.now();
            recording = true;
            long end = recordFrom + TimeUnit.SECONDS.toNanos(seconds);
            new Schedule(recordFrom, end, true,
                    () -> afterDrain(end, FINAL_DRAIN_LIMIT_SECONDS, waited -> answered.complete(null))).run();
        };
        loop.execute(() -> {
            warmupFrom = System.nanoTime();
            long warmupEnd = warmupFrom + TimeUnit.SECONDS.toNanos(warmup);
            new Schedule(warmupFrom, warmupEnd, false, () -> afterDrain(warmupEnd, DRAIN_LIMIT_SECONDS, waited -> {
                drainNanos = waited;
                record.run();
            })).run();
        });
        answered.get(warmup + seconds + DRAIN_LIMIT_SECONDS + FINAL_DRAIN_LIMIT_SECONDS + 10, TimeUnit.SECONDS);
        String[] line = new String[1];
        loop.submit(() -> {
            long unanswered = conns.stream().mapToLong(Connection::outstanding).sum();
            recording = false; // before closing: the report's own closes are not errors
            conns.forEach(c -> c.channel.close());
            line[0] = String.format("rate=%d sent=%d ok=%d errors=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f lag_max_ms=%.3f drain_ms=%.3f",
                    rate, sent, ok, errors + unanswered, ms(latencies.getValueAtPercentile(50)),
                    ms(latencies.getValueAtPercentile(90)), ms(latencies.getValueAtPercentile(99)),
                    ms(latencies.getValueAtPercentile(99.9)), ms(latencies.getMaxValue()), ms(maxLag), ms(drainNanos))
                    + slowConnections(conns);
        }).sync();
        return line[0];
    }

    /**
     * Runs {@code then} with the nanoseconds waited since {@code since} once no request is waiting or
     * in flight on any connection (checked every millisecond), or after {@code limitSeconds}.
     */
    private void afterDrain(long since, int limitSeconds, LongConsumer then) {
        boolean idle = conns.stream().allMatch(c -> c.outstanding() == 0);
        long waited = System.nanoTime() - since;
        if (idle || waited >= TimeUnit.SECONDS.toNanos(limitSeconds)) {
            then.accept(Math.max(0, waited)); // the schedule ends up to one period before its end time
        } else {
            loop.schedule(() -> afterDrain(since, limitSeconds, then), 1, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Submits requests round-robin at fixed intended times from {@code from} (inclusive) to
     * {@code until} (exclusive), then runs {@code then}; runs on the event loop.
     */
    private final class Schedule implements Runnable {
        private final long until;
        private final boolean recorded;
        private final Runnable then;
        private long next;
        private int turn;

        Schedule(long from, long until, boolean recorded, Runnable then) {
            this.next = from;
            this.until = until;
            this.recorded = recorded;
            this.then = then;
        }

        @Override
        public void run() {
            long now = System.nanoTime();
            if (recorded && next < until) {
                maxLag = Math.max(maxLag, now - next);
            }
            // send every request whose time has come (the timer is coarse; the schedule is not)
            while (next <= now && next < until) {
                if (recorded) {
                    sent++;
                }
                conns.get(turn).submit(next);
                turn = (turn + 1) % conns.size();
                next += periodNanos;
            }
            if (next < until) {
                loop.schedule(this, Math.max(0, Math.min(next - System.nanoTime(), 200_000)), TimeUnit.NANOSECONDS);
            } else {
                then.run();
            }
        }
    }

    /**
     * Which connections had requests of {@value #SLOW_NANOS} ns or more: a stall of the whole proxy
     * shows on every connection at once, one connection held up (a lost segment, a stuck queue) on
     * that one only. Empty when none did; else {@code slow_conns=N slowest=i:count:first-last_s:max_ms,...
     * recorded_from=HH:MM:SS.mmm slow_s=second:count,...} (the three connections with most, times of
     * the requests' intended sends from the start of recording; then the local time recording started
     * and every second that had slow requests, negative for the warm-up's, to line up with a
     * per-second record of the machine such as mpstat's).
     */
    private String slowConnections(List<Connection> conns) {
        List<Integer> slow = new ArrayList<>();
        for (int i = 0; i < conns.size(); i++) {
            if (conns.get(i).slow > 0) {
                slow.add(i);
            }
        }
        if (slow.isEmpty()) {
            return "";
        }
        slow.sort((a, b) -> Integer.compare(conns.get(b).slow, conns.get(a).slow));
        StringBuilder out = new StringBuilder(" slow_conns=").append(slow.size()).append(" slowest=");
        for (int k = 0; k < Math.min(3, slow.size()); k++) {
            Connection c = conns.get(slow.get(k));
            out.append(k == 0 ? "" : ",").append(String.format("%d:%d:%.2f-%.2f:%.1f", slow.get(k), c.slow,
                    (c.firstSlow - recordFrom) / 1e9, (c.lastSlow - recordFrom) / 1e9, ms(c.maxLatency)));
        }
        out.append(" recorded_from=").append(recordFromClock.truncatedTo(ChronoUnit.MILLIS));
        String sep = " slow_s=";
        for (int second = 0; second < slowBySecond.length; second++) {
            if (slowBySecond[second] > 0) {
                out.append(sep).append(second - warmupSeconds).append(':').append(slowBySecond[second]);
                sep = ",";
            }
        }
        return out.toString();
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
