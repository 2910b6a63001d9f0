package dev.sluice.controller.admission;

import dev.sluice.controller.translate.ClusterState;
import io.fabric8.kubernetes.api.model.GroupVersionKind;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponseBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReviewBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The validating admission webhook: an HTTPS server that answers {@code AdmissionReview}
 * ({@code admission.k8s.io/v1}) requests for Ingresses at {@code /networking/v1/ingresses}, the
 * path ingress-nginx serves, with the verdict of {@link IngressReviewer} on the current objects.
 *
 * <p>Reviews run on the server's own single event-loop thread, never on the proxy's. Until the
 * sources have synced, Ingresses are allowed with a warning: a partial snapshot would reject
 * valid Ingresses (their Secrets not listed yet) more often than it would catch broken ones.
 * The certificate and key are read once at start; a renewed certificate needs a restart.
 */
public final class AdmissionWebhookServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdmissionWebhookServer.class);

    /** ingress-nginx's path; its ValidatingWebhookConfiguration works unchanged. */
    public static final String PATH = "/networking/v1/ingresses";
    /** An Ingress is a few KiB; a megabyte is far more than the API server's own object limit needs. */
    private static final int MAX_BODY = 3 * 1024 * 1024;

    private final AdmissionWebhookConfig config;
    private final IngressReviewer reviewer;
    private final Supplier<ClusterState> state;
    private final BooleanSupplier synced;
    private final Clock clock;
    private final KubernetesSerialization json = new KubernetesSerialization();

    private EventLoopGroup group;
    private Channel serverChannel;

    /**
     * @param config   where to listen, the PEM files
     * @param reviewer the decision
     * @param state    the current objects (the sync loop's source)
     * @param synced   whether the source has listed everything
     * @param clock    the time of each review
     */
    public AdmissionWebhookServer(AdmissionWebhookConfig config, IngressReviewer reviewer, Supplier<ClusterState> state,
            BooleanSupplier synced, Clock clock) {
        this.config = config;
        this.reviewer = reviewer;
        this.state = state;
        this.synced = synced;
        this.clock = clock;
    }

    /**
     * Reads the certificate and key and starts listening.
     *
     * @throws IllegalStateException when the files cannot be used or the port cannot be bound
     */
    public synchronized void start() {
        SslContext ssl;
        try {
            ssl = SslContextBuilder.forServer(config.certificate().toFile(), config.key().toFile()).build();
        } catch (Exception e) {
            throw new IllegalStateException("--validating-webhook-certificate " + config.certificate()
                    + " / --validating-webhook-key " + config.key() + ": " + e.getMessage(), e);
        }
        group = new NioEventLoopGroup(1, new DefaultThreadFactory("sluice-admission", true));
        ChannelHandler handler = new ReviewHandler();
        ServerBootstrap bootstrap = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(ssl.newHandler(ch.alloc()))
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpObjectAggregator(MAX_BODY))
                                .addLast(handler);
                    }
                });
        InetSocketAddress address = config.host() == null ? new InetSocketAddress(config.port())
                : new InetSocketAddress(config.host(), config.port());
        try {
            serverChannel = bootstrap.bind(address).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            group = null;
            throw new IllegalStateException("admission webhook cannot listen on " + address + ": " + e.getMessage(), e);
        }
        log.info("validating admission webhook (HTTPS {}) listening on {}", PATH, serverChannel.localAddress());
    }

    /** The bound port (the real one when 0 was asked for); -1 before {@link #start()}. */
    public synchronized int port() {
        return serverChannel == null ? -1 : ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** The response to one AdmissionReview request; {@code null} request fields are answered as invalid. */
    AdmissionReview answer(AdmissionReview review) {
        AdmissionRequest request = review.getRequest();
        AdmissionResponseBuilder response = new AdmissionResponseBuilder().withUid(request.getUid());
        GroupVersionKind kind = request.getKind();
        boolean ingress = kind != null && "networking.k8s.io".equals(kind.getGroup()) && "Ingress".equals(kind.getKind());
        if (!ingress || request.getObject() == null || "DELETE".equals(request.getOperation())) {
            response.withAllowed(true); // nothing Sluice judges
        } else if (!synced.getAsBoolean()) {
            response.withAllowed(true).withWarnings("Sluice has not finished listing the cluster's objects;"
                    + " this Ingress was not validated");
        } else {
            Ingress candidate = json.convertValue(request.getObject(), Ingress.class);
            IngressReviewer.Verdict verdict = reviewer.review(candidate, request.getNamespace(), state.get(),
                    clock.instant());
            response.withAllowed(verdict.allowed());
            if (!verdict.warnings().isEmpty()) {
                response.withWarnings(verdict.warnings());
            }
            if (!verdict.allowed()) {
                String who = candidate.getMetadata() == null ? "" : candidate.getMetadata().getName();
                String message = "Sluice rejects Ingress " + request.getNamespace() + "/"
                        + (who == null ? request.getName() : who) + ": " + String.join("; ", verdict.reasons());
                response.withStatus(new StatusBuilder().withStatus("Failure").withCode(400).withReason("BadRequest")
                        .withMessage(message).build());
                log.info("admission: {}", message);
            }
        }
        return new AdmissionReviewBuilder().withApiVersion("admission.k8s.io/v1").withKind("AdmissionReview")
                .withResponse(response.build()).build();
    }

    @ChannelHandler.Sharable
    private final class ReviewHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String path = new QueryStringDecoder(request.uri()).path();
            if (!path.equals(PATH)) {
                respond(ctx, request, HttpResponseStatus.NOT_FOUND, "text/plain", "not found: " + path + "\n");
                return;
            }
            if (!request.method().equals(HttpMethod.POST)) {
                respond(ctx, request, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain", "POST an AdmissionReview\n");
                return;
            }
            AdmissionReview review;
            try {
                review = json.unmarshal(request.content().toString(StandardCharsets.UTF_8), AdmissionReview.class);
            } catch (RuntimeException e) {
                respond(ctx, request, HttpResponseStatus.BAD_REQUEST, "text/plain", "not an AdmissionReview: "
                        + e.getMessage() + "\n");
                return;
            }
            if (review == null || review.getRequest() == null || review.getRequest().getUid() == null) {
                respond(ctx, request, HttpResponseStatus.BAD_REQUEST, "text/plain", "an AdmissionReview needs a request"
                        + " with a uid\n");
                return;
            }
            AdmissionReview answer;
            try {
                answer = answer(review);
            } catch (RuntimeException e) {
                // a bug must not let a broken Ingress through: the API server applies failurePolicy
                log.error("admission review {} failed", review.getRequest().getUid(), e);
                respond(ctx, request, HttpResponseStatus.INTERNAL_SERVER_ERROR, "text/plain", "review failed: " + e + "\n");
                return;
            }
            respond(ctx, request, HttpResponseStatus.OK, "application/json", json.asJson(answer));
        }

        private void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                String contentType, String body) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (keepAlive) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                ctx.writeAndFlush(response);
            } else {
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("admission webhook connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }

    /** Closes the port and stops the event loop. Idempotent. */
    @Override
    public synchronized void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
            serverChannel = null;
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            group = null;
        }
    }
}
