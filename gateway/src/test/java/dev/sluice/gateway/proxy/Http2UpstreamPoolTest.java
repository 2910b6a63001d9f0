package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.request.Endpoint;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.resolver.DefaultAddressResolverGroup;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link Http2UpstreamPool}'s own life cycle: what its connections become when the pool closes. */
class Http2UpstreamPoolTest {
    @Test
    void closingThePoolClosesTheConnectionsToEveryEndpoint() throws Exception {
        Transport transport = Transport.select("nio");
        EventLoopGroup group = transport.newGroup(1);
        // the kernel completes the TCP handshakes without accept(): enough for h2c streams to open
        try (ServerSocket a = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.2"));
                ServerSocket b = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.3"))) {
            EventLoop loop = group.next();
            Http2UpstreamPool pool = new Http2UpstreamPool(loop, transport, DefaultAddressResolverGroup.INSTANCE);
            List<Channel> streams = new java.util.ArrayList<>();
            for (ServerSocket pod : List.of(a, b)) {
                Future<Channel> stream = loop.submit(() -> pool.openStream(
                        Endpoint.of(pod.getInetAddress().getHostAddress(), pod.getLocalPort()), false,
                        Duration.ofSeconds(5))).get(10, TimeUnit.SECONDS);
                streams.add(stream.get(10, TimeUnit.SECONDS));
            }
            assertThat(loop.submit(pool::connectionCount).get(10, TimeUnit.SECONDS)).isEqualTo(2);

            loop.submit(pool::close).get(10, TimeUnit.SECONDS); // fails if close() throws

            for (Channel stream : streams) {
                assertThat(stream.parent().closeFuture().await(10, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(loop.submit(pool::connectionCount).get(10, TimeUnit.SECONDS)).isZero();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
