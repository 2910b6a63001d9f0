package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.gateway.stream.MultiAccept;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A listener accepts every connection that is waiting when its event loop gets to it, in one
 * turn, as NGINX's {@code multi_accept}: connections that arrive while the loop is busy are not
 * left in the kernel's queue one turn each (Netty's default, which held a burst of 256 new
 * connections for ~3 s under load).
 */
class MultiAcceptTest {

    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll", "io_uring"})
    void connectionsThatArriveWhileTheLoopIsBusyAreAcceptedInOneTurn(String name) throws Exception {
        assumeTrue(!name.equals("epoll") || Epoll.isAvailable(), "epoll is not available here");
        assumeTrue(!name.equals("io_uring") || IoUring.isAvailable(), "io_uring is not available here");
        Transport transport = Transport.select(name);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, transport.ioHandlers().get());
        List<Integer> batches = new CopyOnWriteArrayList<>();
        List<Socket> clients = new ArrayList<>();
        try {
            Channel listener = new ServerBootstrap()
                    .group(group)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, MultiAccept.allocator())
                    .handler(new ChannelInboundHandlerAdapter() {
                        private int accepted;

                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            accepted++;
                            ctx.fireChannelRead(msg);
                        }

                        @Override
                        public void channelReadComplete(ChannelHandlerContext ctx) {
                            if (accepted > 0) {
                                batches.add(accepted);
                            }
                            accepted = 0;
                            ctx.fireChannelReadComplete();
                        }
                    })
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {}
                    })
                    .bind("127.0.0.1", 0).sync().channel();
            int port = ((InetSocketAddress) listener.localAddress()).getPort();

            CountDownLatch busy = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            listener.eventLoop().execute(() -> {
                busy.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS); // the loop is busy with other work
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(busy.await(5, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 40; i++) {
                clients.add(new Socket("127.0.0.1", port)); // completes in the kernel's accept queue
            }
            release.countDown();

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (batches.stream().mapToInt(Integer::intValue).sum() < 40 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(batches.stream().mapToInt(Integer::intValue).sum()).isEqualTo(40);
            assertThat(batches.get(0)).as("accepted in the loop's first turn after it was busy: %s", batches)
                    .isEqualTo(40);
        } finally {
            for (Socket s : clients) {
                s.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
