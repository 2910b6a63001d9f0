package dev.sluice.gateway.proxy;

import dev.sluice.gateway.access.AccessPolicy;
import dev.sluice.gateway.access.BandwidthLimit;
import dev.sluice.gateway.access.RequestBlocks;
import dev.sluice.gateway.balance.LoadBalancer;
import dev.sluice.gateway.balance.Pick;
import dev.sluice.gateway.observe.AccessLog;
import dev.sluice.gateway.observe.AccessLogEntry;
import dev.sluice.gateway.observe.HttpSizes;
import dev.sluice.gateway.observe.RequestMetrics;
import dev.sluice.gateway.route.BackendProtocol;
import dev.sluice.gateway.route.ClientCertificateAuth;
import dev.sluice.gateway.route.CorsPolicy;
import dev.sluice.gateway.route.ErrorPages;
import dev.sluice.gateway.route.HeaderRewrites;
import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.request.HostNormalizer;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.ProxyTuning;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.ForwardedTrust;
import dev.sluice.gateway.route.ProxySettings;
import dev.sluice.gateway.access.SourceRanges;
import dev.sluice.gateway.route.RoutingDecision;
import dev.sluice.gateway.route.UpstreamTls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request from a client, from its head to the last byte of its response: routing, the
 * upstream attempts (with retries to the next endpoint), and both body streams.
 *
 * <p>Flow control follows Netty's proxy idiom in both directions: a chunk read from one side is
 * written to the other, and the next read is requested only when that write has been flushed.
 * So at most one read's worth of body is in memory per direction, whatever the body size.
 *
 * <p>The exchange is the state machine: head checks ({@link RequestChecks}) and routing, the
 * access phase, connect, streaming both ways, finish. It asks small collaborators for the rest:
 * {@link RetryPolicy} decides whether a failed attempt is retried (SPEC §6.4, NGINX's
 * {@code proxy_next_upstream error timeout}), {@link ReplayBuffer} keeps the body bytes a retry
 * must resend, {@link UpstreamTimeouts} runs the send and read deadlines, and
 * {@link AttemptLog} writes the access log's {@code upstream_*} fields. Each is allocated only
 * when the request needs it (a body, an upstream connection, the access log on). Once the
 * response has started, any upstream failure closes the client connection.
 *
 * <p>Canary and load balancing: the route table chooses the side of the location's split (mainline
 * or canary) once per request; the first attempt and every retry pick from that side's balancer,
 * which avoids the endpoints this request already tried, and each attempt reports its latency
 * back to the balancer exactly once. A sticky cookie from the pick is added to the response.
 *
 * <p>Confined to the client channel's event loop, which is also the upstream channel's loop.
 */
final class ProxyExchange implements UpstreamTimeouts.Listener, UpstreamHandler.Owner {
    private static final Logger log = LoggerFactory.getLogger(ProxyExchange.class);
    // the headers ingress-nginx's @custom_* error locations send to the default backend
    static final AsciiString X_CODE = AsciiString.cached("X-Code");
    static final AsciiString X_FORMAT = AsciiString.cached("X-Format");
    static final AsciiString X_ORIGINAL_URI = AsciiString.cached("X-Original-URI");
    static final AsciiString X_NAMESPACE = AsciiString.cached("X-Namespace");
    static final AsciiString X_INGRESS_NAME = AsciiString.cached("X-Ingress-Name");
    static final AsciiString X_SERVICE_NAME = AsciiString.cached("X-Service-Name");
    static final AsciiString X_SERVICE_PORT = AsciiString.cached("X-Service-Port");

    /** Bodies up to this size are merged into the response head's buffer by Netty's encoder. */
    private static final int MERGED_BODY_LIMIT = 1024;

    private final ProxyHandler client;
    private final ChannelHandlerContext ctx;
    private final ServerContext server;
    private final HttpRequest request;
    private final long startNanos = System.nanoTime();
    private final boolean head;
    /** An HTTP/1.1 {@code Upgrade} request (a WebSocket handshake): a 101 turns it into a tunnel. */
    private final boolean upgrade;
    private final boolean clientHttp11;
    /** A gRPC call from an HTTP/2 client: proxy errors are answered as gRPC statuses ({@link Grpc}). */
    private final boolean grpcCall;
    /** When the call's {@code grpc-timeout} runs out ({@link System#nanoTime}), or {@code -1} without one. */
    private final long callDeadlineNanos;
    private ScheduledFuture<?> callDeadlineTimer;
    private boolean keepAlive;
    private boolean finished;

    // routing
    private String metricHost = "_";
    private Route route; // the matched location, also when it answers locally (metrics labels)
    private String ingress;
    private String backendName;
    private boolean canary;
    private LoadBalancer balancer;
    private NettyRequestView view;
    private String setCookie;
    private RoutingDecision.Forward forward;
    private RouteOptions options;
    private CharSequence requestId; // a RequestId when generated: its String only if logged
    private CorsPolicy cors;
    private String corsOrigin;
    private RouteTable table;
    /** {@code custom-http-errors}: the default backend now answers in place of an error ({@link #serveErrorPage}). */
    private boolean errorPage;
    private ProxySettings settings = ProxySettings.DEFAULTS;
    // the client after the real-IP rules of the global ConfigMap (SPEC §8): NGINX's $remote_addr
    private String clientIp;
    private byte[] clientAddress;

    // access control (SPEC §0.1 steps 3 and 6)
    private Map<String, String> clientCertificateHeaders;
    private boolean accessPending;
    private AccessGate.Pass access;
    private HttpHeaders localHeaders;
    private long responseStartNanos;

    // request body, client -> upstream
    private boolean requestComplete;
    private boolean discardBody;
    private ArrayDeque<HttpContent> pendingBody;
    private LastHttpContent trailers;
    private long bodyBytes;
    private ReplayBuffer replay; // from the first body chunk sent upstream
    private int replayLimit = ReplayBuffer.LIMIT; // the whole body once it was buffered
    /** The body is being read before the upstream is contacted ({@link ProxyTuning#buffersRequestBody}). */
    private boolean bufferingBody;
    private MirrorCopy mirror; // mirror-target: the copy, until the request body has ended

    // upstream connection
    private HttpRequest upstreamRequest;
    private Endpoint endpoint;
    private UpstreamKey upstreamKey; // the endpoint with the location's TLS settings, if any
    private UpstreamTls upstreamTls; // null: clear HTTP
    private Set<Endpoint> tried = Set.of(); // the endpoints that failed this request, for the next pick
    private boolean attemptPicked;
    private int attempts;
    private boolean staleRetried;
    private Channel upstream;
    private UpstreamHandler upstreamHandler;
    private boolean reused;
    private ChannelFuture connecting;
    private Future<Channel> openingStream; // an HTTP/2 upstream stream being opened
    private ChannelFuture lastUpstreamWrite; // the last write with a promise (see completesLater)
    private boolean endWritten; // the request's end was written to the current upstream connection
    // The last message written since the last flush is held until the flush. Writes go with the
    // void promise: a batch's writes succeed or fail together, a failed one closes the connection,
    // and a promise per write was a tenth of the allocation. Whether a flush went out is asked of
    // the channel afterwards (flushedWhole), with a promise only when the socket took less, or
    // where writes complete later anyway (completesLater).
    private Object heldUpstreamWrite;
    private boolean upstreamWritePending;
    private boolean upstreamFlushInFlight;
    private boolean requestSent;
    private long attemptStartNanos;
    private boolean attemptOpen;
    private UpstreamTimeouts timeouts; // the client connection's, from the first upstream connection
    private AttemptLog attemptLog; // only while the access log is on

    // response, upstream -> client
    private boolean responseStarted;
    private boolean responseComplete;
    private boolean upstreamDone;
    private boolean upstreamReusable;
    private boolean skipInformational;
    private int upstreamStatus;
    private int status;
    private long bytesSent;
    private HttpResponse clientHead; // the response head sent, for the metrics' response size
    private long connectNanos = -1; // metrics: the last connect (0 for a pooled connection)
    private long upstreamNanos = -1; // metrics: the last attempt, connect to response end
    private ChannelFuture lastClientWrite; // the last write with a promise (see completesLater)
    private Object heldClientWrite; // as heldUpstreamWrite
    private boolean clientWritePending;
    private ResponseCompression compression; // only while a compressed response streams

    // Future listeners are made where needed, not kept in fields: most requests make no new
    // connection, open no HTTP/2 stream and have every flush taken whole (epoll), and a field per
    // listener cost every exchange its bytes while the listener itself was needed by few.

    ProxyExchange(ProxyHandler client, ChannelHandlerContext ctx, HttpRequest request) {
        this.client = client;
        this.ctx = ctx;
        this.server = client.server();
        this.request = request;
        this.head = HttpMethod.HEAD.equals(request.method());
        this.clientHttp11 = RequestChecks.http11(request.protocolVersion());
        this.upgrade = clientHttp11 && request.headers().contains(HttpHeaderNames.UPGRADE);
        this.grpcCall = client.http2() && Grpc.isCall(request.headers());
        long grpcTimeout = grpcCall ? Grpc.timeoutNanos(request.headers().get(Grpc.GRPC_TIMEOUT)) : -1;
        this.callDeadlineNanos = grpcTimeout > 0 ? startNanos + grpcTimeout : -1;
    }

    /** Whether the client's {@code LastHttpContent} has been received. */
    boolean requestComplete() {
        return requestComplete;
    }

    boolean responseComplete() {
        return responseComplete;
    }

    // ---------------------------------------------------------------- start and routing

    void start() {
        int rejection = RequestChecks.rejection(request);
        if (rejection != 0) {
            if (request.decoderResult().isFailure()) {
                log.debug("bad request from {}: {}", client.clientIp(), request.decoderResult().cause().toString());
            }
            rejectRequest(rejection);
            return;
        }
        String absoluteHost = absoluteFormHost(request.uri());
        if (absoluteHost != null) {
            // RFC 9112 §3.2.2, and NGINX: the target's host wins over the Host header, for routing
            // and for the upstream alike
            if (!RequestChecks.validHost(absoluteHost)) {
                rejectRequest(400);
                return;
            }
            request.headers().set(HttpHeaderNames.HOST, absoluteHost);
        }
        keepAlive = HttpUtil.isKeepAlive(request) && !client.draining();
        String host = request.headers().get(HttpHeaderNames.HOST); // at most one: checked above
        RouteTable table = server.routes().current();
        this.table = table;
        settings = table.settings();
        int maxRequests = settings.listener().keepAliveRequests();
        if (maxRequests > 0 && !client.http2() && client.requestCount() >= maxRequests) {
            keepAlive = false; // keep-alive-requests: this response closes the connection
        }
        ForwardedTrust trust = settings.forwarded();
        clientIp = client.clientIp();
        clientAddress = client.clientAddress();
        if (trust.realIp()) {
            String real = trust.clientIp(clientAddress, clientIp,
                    ForwardedHeaders.joined(request.headers(), trust.forwardedForHeader()));
            if (!real.equals(clientIp)) {
                clientIp = real;
                clientAddress = SourceRanges.literal(real);
            }
        }
        RequestBlocks blocks = settings.blocks();
        if (!blocks.isEmpty()) {
            if (blocks.unusable() != null) {
                rejectLocally(503, null, null); // fail closed: block lists that cannot be honoured
                return;
            }
            if (blocks.blocks(clientAddress, request.headers().get(HttpHeaderNames.USER_AGENT),
                    request.headers().get(HttpHeaderNames.REFERER))) {
                // block-cidrs / block-user-agents / block-referers: the server answers 403 before any location
                rejectLocally(403, null, null);
                return;
            }
        }
        if (client.https() && table.tls().hasClientAuth()
                && !clientCertificateAccepted(table.tls().clientAuth(table.findHost(host).host()))) {
            return; // NGINX verifies client certificates at the server level, before any location
        }
        RoutingDecision decision;
        try {
            view = NettyRequestView.of(request, clientIp, client.https());
            decision = table.decide(host, request.uri(), ForwardedHeaders.scheme(request.headers(), client.https(),
                    trust), view, server.canaryDraw());
        } catch (RuntimeException e) {
            log.warn("routing failed for {} {}: {}", host, request.uri(), e.toString());
            decision = new RoutingDecision.Respond(500, null, "routing error");
        }
        if (decision instanceof RoutingDecision.Forward f) {
            forward(f);
        } else {
            RoutingDecision.Respond r = (RoutingDecision.Respond) decision;
            cors = r.cors();
            corsOrigin = r.corsOrigin();
            route = r.route();
            // a denied or redirecting location is still its Ingress's; Sluice's own 404 is nobody's
            ingress = route != null && !Route.BUILT_IN.equals(route.source()) ? route.source() : null;
            metricHost = hostTag(table.findHost(host));
            discardBody = true;
            if (HttpUtil.is100ContinueExpected(request) || r.status() == 400) {
                keepAlive = false; // the client may never send the body it announced; NGINX closes after a 400
            }
            if (!serveErrorPage(r.status())) {
                respond(r.status(), r.location());
            }
        }
    }

    /**
     * The authority of an absolute-form request target ({@code http://a.example.com:8080/x} →
     * {@code a.example.com:8080}), or {@code null} for the origin form.
     */
    private static String absoluteFormHost(String uri) {
        if (uri.isEmpty() || uri.charAt(0) == '/') {
            return null;
        }
        int start = uri.regionMatches(true, 0, "http://", 0, 7) ? 7 : uri.regionMatches(true, 0, "https://", 0, 8) ? 8
                : -1;
        if (start < 0) {
            return null;
        }
        int end = start;
        while (end < uri.length() && "/?#".indexOf(uri.charAt(end)) < 0) {
            end++;
        }
        String authority = uri.substring(start, end);
        int at = authority.lastIndexOf('@'); // userinfo is not part of the host
        return at >= 0 ? authority.substring(at + 1) : authority;
    }

    /** Answers a request that cannot be served and closes the connection after the answer. */
    private void rejectRequest(int code) {
        keepAlive = false;
        discardBody = true;
        respond(code, null);
    }

    private void forward(RoutingDecision.Forward f) {
        forward = f;
        options = f.route().options();
        upstreamTls = options.upstreamTlsFor(client.https());
        if (f.corsOrigin() != null) {
            cors = options.cors();
            corsOrigin = f.corsOrigin();
        }
        route = f.route();
        ingress = f.route().source();
        backendName = f.upstream().name();
        canary = f.isCanary();
        balancer = f.upstream().balancer();
        metricHost = hostTag(f.host());
        requestId = ForwardedHeaders.requestId(request.headers());
        if (!client.https() && table.tls().hasClientAuth()
                && !clientCertificateAccepted(table.tls().clientAuth(f.host().host()))) {
            return; // plain HTTP carries no client certificate: checked once redirects had their turn
        }
        if (options.access() instanceof AccessPolicy.Guarded guarded) {
            accessPending = true;
            server.access().check(guarded, new AccessGate.Request(request, view, clientAddress,
                    clientIp, client.https(), requestId.toString(), options.connectTimeout(), options.readTimeout()),
                    ctx.channel().eventLoop(), this::accessDecided);
            return;
        }
        proceed();
    }

    /**
     * The client-certificate check of the request's host ({@code auth-tls-*}): {@code true} to go
     * on (with the {@code ssl-client-*} headers for the upstream), {@code false} when the request
     * was answered (400, or 302 to {@code auth-tls-error-page}).
     */
    private boolean clientCertificateAccepted(ClientCertificateAuth policy) {
        if (policy == null) {
            return true;
        }
        ClientCertificateCheck.Result result = client.clientCertificateCheck(policy);
        if (result instanceof ClientCertificateCheck.Pass pass) {
            clientCertificateHeaders = pass.upstreamHeaders();
            return true;
        }
        ClientCertificateCheck.Reject reject = (ClientCertificateCheck.Reject) result;
        keepAlive = false; // NGINX closes after a certificate error
        rejectLocally(reject.status(), reject.location(), null);
        return false;
    }

    /** The access phase ended: proxy, or answer with the verdict's status. */
    private void accessDecided(AccessGate.Verdict verdict) {
        accessPending = false;
        if (verdict instanceof AccessGate.Pass pass) {
            access = pass;
            if (finished) {
                releasePermit();
                return;
            }
            proceed();
        } else if (!finished) {
            AccessGate.Reject r = (AccessGate.Reject) verdict;
            if (!serveErrorPage(r.status())) {
                rejectLocally(r.status(), r.location(), r.headers());
            }
        }
    }

    /** Answers before anything went upstream; the body the client may still send is read and dropped. */
    private void rejectLocally(int status, String location, HttpHeaders headers) {
        discardBody = true;
        if (HttpUtil.is100ContinueExpected(request)) {
            keepAlive = false; // the client may never send the body it announced
        }
        localHeaders = headers;
        respond(status, location);
    }

    /**
     * The request passed every check: read its body first when the location buffers it
     * ({@code proxy-request-buffering}), else go upstream now.
     */
    private void proceed() {
        if (options.backendProtocol() == BackendProtocol.FCGI) {
            // Sluice speaks no FastCGI: a bad gateway rather than HTTP bytes to a FastCGI server
            log.debug("[{}] backend-protocol FCGI is not supported: 502", ingress);
            rejectLocally(502, null, null);
            return;
        }
        if (clientHttp11 && HttpUtil.is100ContinueExpected(request)) {
            // NGINX answers Expect itself when it starts reading the body; the upstream never sees it
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                    Unpooled.EMPTY_BUFFER));
        }
        if (!requestComplete && buffersBody()) {
            bufferingBody = true; // onClientContent goes upstream once the body is in (or at the limit)
            client.readMore();
            return;
        }
        goUpstream();
    }

    /**
     * Whether this request's body is read before the upstream is contacted: the location asks for
     * it (or sends HTTP/1.0, which cannot carry a chunked body) and there is a body; never for a
     * WebSocket handshake or a gRPC stream, whose bodies are conversations.
     */
    private boolean buffersBody() {
        boolean chunked = HttpUtil.isTransferEncodingChunked(request);
        return options.tuning().buffersRequestBody(chunked) && !upgrade && !http2Upstream()
                && (chunked || HttpUtil.getContentLength(request, 0L) > 0);
    }

    /**
     * The buffered body is complete, or reached {@link ProxyTuning#REQUEST_BUFFER_LIMIT}: go
     * upstream with what was read, streaming the rest — except a chunked body for an HTTP/1.0
     * upstream, which has no way to send it: 413, as if {@code proxy-body-size} were that limit.
     */
    private void bodyBuffered() {
        bufferingBody = false;
        if (!requestComplete && options.tuning().http10() && HttpUtil.isTransferEncodingChunked(request)) {
            log.debug("[{}] chunked body over {} bytes for an HTTP/1.0 upstream: 413", ingress,
                    ProxyTuning.REQUEST_BUFFER_LIMIT);
            bodyTooLarge();
            return;
        }
        goUpstream();
    }

    /** Picks the first endpoint and connects. */
    private void goUpstream() {
        Endpoint first = pickEndpoint();
        if (first == null) {
            // cannot happen: the table forwards only to a side with endpoints
            discardBody = true;
            respond(503, null);
            return;
        }
        RoutingDecision.Forward f = forward;
        HttpHeaders headers = ForwardedHeaders.toUpstream(request.headers(), clientIp, client.clientIp(),
                client.https(), settings.forwarded(), f.forwardedPrefix(), requestId, first);
        if (!settings.upstreamHeaders().isEmpty()) { // no entry-set iterator per request when unset
            for (Map.Entry<String, String> h : settings.upstreamHeaders().entrySet()) {
                headers.set(h.getKey(), h.getValue()); // proxy-set-headers
            }
        }
        if (access != null) {
            if (access.dropAuthorization()) {
                headers.remove(HttpHeaderNames.AUTHORIZATION); // basic/digest credentials end here (SPEC §7)
            }
            if (access.upstreamHeaders() != null) {
                for (Map.Entry<String, String> h : access.upstreamHeaders()) {
                    if (h.getValue().isEmpty()) {
                        headers.remove(h.getKey());
                    } else {
                        headers.set(h.getKey(), h.getValue());
                    }
                }
            }
        }
        String upstreamHost = options.headerRewrites().upstreamHost();
        if (upstreamHost != null) {
            headers.set(HttpHeaderNames.HOST, upstreamHost); // upstream-vhost; X-Forwarded-Host keeps the client's
        }
        ErrorPages pages = options.errorPages();
        if (pages != null && pages.replacesService()) {
            // default-backend serves a location whose Service has no endpoints (SPEC §4.4 a)
            addErrorPageHeaders(headers, pages, 503);
        }
        if (clientCertificateHeaders != null) {
            // NGINX's proxy_set_header: a client never sets ssl-client-* for a host that checks certificates
            for (String name : ClientCertificateCheck.HEADER_NAMES) {
                headers.remove(name);
            }
            clientCertificateHeaders.forEach(headers::set);
        }
        ProxyTuning tuning = options.tuning();
        if (requestComplete && (pendingBody != null || trailers != null) && buffersBody()) {
            // the whole body is here: it goes with its length, as NGINX sends a buffered body (no trailers)
            headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
            headers.set(HttpHeaderNames.CONTENT_LENGTH, bodyBytes);
            trailers = null;
            replayLimit = (int) Math.max(ReplayBuffer.LIMIT, bodyBytes); // the body is in memory anyway
        } else if (HttpUtil.isTransferEncodingChunked(request)) {
            headers.remove(HttpHeaderNames.CONTENT_LENGTH);
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        if (tuning.http10()) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE); // NGINX's proxy_http_version 1.0
        } else if (upgrade) {
            // SPEC §8: Upgrade $http_upgrade, Connection $connection_upgrade (a WebSocket needs no annotation)
            headers.set(HttpHeaderNames.UPGRADE, request.headers().get(HttpHeaderNames.UPGRADE));
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        }
        if (http2Upstream()) {
            headers.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS); // gRPC servers expect it
        }
        HttpVersion version = tuning.http10() ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
        if (withoutBody()) {
            // head and end in one message from the start: what writeUpstream would merge them into
            upstreamRequest = new DefaultFullHttpRequest(version, request.method(), f.upstreamUri(),
                    Unpooled.EMPTY_BUFFER, headers, FlatHttpHeaders.EMPTY);
        } else {
            upstreamRequest = new DefaultHttpRequest(version, request.method(), f.upstreamUri(), headers);
        }
        if (options.mirror() != null && !upgrade) {
            startMirror(headers);
        }
        if (callDeadlineNanos != -1 && !startCallDeadline()) {
            return;
        }
        attempts = 1;
        attemptPicked = true;
        connect(first, false);
    }

    /**
     * Whether the client's HTTP/1 request has no body by its framing (neither {@code Content-Length}
     * nor {@code Transfer-Encoding}, RFC 9112 §6.3), goes to an HTTP/1 upstream and does not
     * upgrade: its upstream request is complete from the start.
     */
    private boolean withoutBody() {
        HttpHeaders h = request.headers();
        return !client.http2() && !http2Upstream() && !upgrade
                && !h.contains(HttpHeaderNames.CONTENT_LENGTH) && !h.contains(HttpHeaderNames.TRANSFER_ENCODING);
    }

    /**
     * A gRPC call's {@code grpc-timeout} bounds everything upstream, from the first connect to the
     * last response byte, retries included (Envoy's model): the client stops waiting then, so the
     * proxy does too, and answers {@code DEADLINE_EXCEEDED} if it has not started answering. The
     * deadline runs from the request's arrival, so it never ends after the client's own.
     *
     * @return {@code false} when the deadline has passed already and the call was answered
     */
    private boolean startCallDeadline() {
        long left = callDeadlineNanos - System.nanoTime();
        if (left <= 0) {
            log.debug("[{}] grpc-timeout passed before the call went upstream", ingress);
            discardBody = true;
            respond(504, null);
            return false;
        }
        callDeadlineTimer = ctx.executor().schedule(this::callDeadlinePassed, left, TimeUnit.NANOSECONDS);
        return true;
    }

    private void callDeadlinePassed() {
        callDeadlineTimer = null;
        if (finished || (upstream == null && connecting == null && openingStream == null)) {
            return; // answered already, or answering locally
        }
        log.debug("[{}] grpc-timeout of the call to {} passed", ingress, endpoint);
        cancelConnect();
        fail(UpstreamFailure.CALL_DEADLINE);
    }

    /** Whether this call's {@code grpc-timeout} has run out. */
    private boolean callDeadlinePassedAlready() {
        return callDeadlineNanos != -1 && System.nanoTime() - callDeadlineNanos >= 0;
    }

    /**
     * Sends a copy of the request to the location's {@code mirror-target} ({@link MirrorCopy}): the
     * head now, the body read so far, the rest as it arrives.
     */
    private void startMirror(HttpHeaders upstreamHeaders) {
        mirror = MirrorCopy.start(server, ctx.channel().eventLoop(), options.mirror(), request, upstreamHeaders,
                request.uri(), HostNormalizer.normalize(request.headers().get(HttpHeaderNames.HOST)),
                client.https() ? "https" : "http", options.connectTimeout(), options.readTimeout());
        if (pendingBody != null) {
            for (HttpContent c : pendingBody) {
                mirror.body(c.content());
            }
        }
        if (requestComplete) {
            mirror.bodyEnded(trailers);
            mirror = null;
        }
    }

    /**
     * An endpoint from the chosen side's balancer, avoiding the endpoints this request already
     * tried while any other is left (every balancer honours the exclusion, see
     * {@link LoadBalancer}). Keeps the sticky cookie the pick asks for.
     */
    private Endpoint pickEndpoint() {
        Pick p = balancer.pick(view, tried, errorPage ? null : forward.route().affinityPath());
        if (p.setCookie() != null) {
            setCookie = p.setCookie();
        }
        return p.endpoint();
    }

    /** Adds an endpoint that failed this request to those the next pick avoids. */
    private void avoid(Endpoint ep) {
        if (tried.isEmpty()) {
            tried = Set.of(ep); // the set exists only once a retry needs it
        } else if (!tried.contains(ep)) {
            Set<Endpoint> more = new HashSet<>(tried);
            more.add(ep);
            tried = more;
        }
    }

    private static String hostTag(HostRoutes host) {
        return host == null || host.host().isEmpty() ? "_" : host.host();
    }

    // ---------------------------------------------------------------- upstream connection

    private void connect(Endpoint ep, boolean fresh) {
        endpoint = ep;
        attemptStartNanos = System.nanoTime();
        attemptOpen = true;
        requestSent = false;
        endWritten = false;
        if (http2Upstream()) {
            Future<Channel> f = server.http2Upstreams(ctx.channel().eventLoop())
                    .openStream(ep, options.backendProtocol() == BackendProtocol.GRPCS, options.connectTimeout());
            openingStream = f;
            f.addListener((GenericFutureListener<Future<Channel>>) this::streamOpened);
            return;
        }
        Upstreams upstreams = server.upstreams(ctx.channel().eventLoop());
        upstreamKey = upstreams.key(ep, upstreamTls, options.tuning().responseHeaderLimit());
        Channel pooled = fresh ? null : upstreams.acquire(upstreamKey);
        if (pooled != null) {
            attach(pooled, true);
            return;
        }
        ChannelFuture cf = upstreams.connect(upstreamKey, options.connectTimeout());
        connecting = cf;
        cf.addListener((ChannelFutureListener) this::connected);
    }

    private void connected(ChannelFuture f) {
        if (f != connecting) {
            if (f.isSuccess()) {
                f.channel().close(); // an attempt this exchange gave up on
            }
            return;
        }
        connecting = null;
        if (finished) {
            f.channel().close();
            return;
        }
        if (f.isSuccess()) {
            attach(f.channel(), false);
        } else {
            // for TLS this includes the handshake: a verification failure is named in the cause
            log.debug("[{}] connect to {} failed: {}", ingress, upstreamKey, f.cause().toString());
            server.metrics().connectError(backendName);
            fail(UpstreamFailure.CONNECT);
        }
    }

    /** Whether the location's upstream speaks HTTP/2 ({@code backend-protocol: GRPC/GRPCS}). */
    private boolean http2Upstream() {
        if (errorPage) {
            return false; // the default backend speaks HTTP/1.1
        }
        BackendProtocol p = options.backendProtocol();
        return p == BackendProtocol.GRPC || p == BackendProtocol.GRPCS;
    }

    /** The HTTP/2 counterpart of {@link #connected}: a stream on a shared upstream connection. */
    private void streamOpened(Future<Channel> f) {
        if (f != openingStream) {
            if (f.isSuccess()) {
                f.getNow().close(); // an attempt this exchange gave up on
            }
            return;
        }
        openingStream = null;
        if (finished) {
            if (f.isSuccess()) {
                f.getNow().close();
            }
            return;
        }
        if (f.isSuccess()) {
            attach(f.getNow(), false);
        } else {
            log.debug("[{}] HTTP/2 connection to {} failed: {}", ingress, endpoint, f.cause().toString());
            server.metrics().connectError(backendName);
            fail(UpstreamFailure.CONNECT);
        }
    }

    private void attach(Channel ch, boolean reusedConnection) {
        connectNanos = reusedConnection ? 0 : System.nanoTime() - attemptStartNanos;
        upstream = ch;
        reused = reusedConnection;
        upstreamHandler = ch.pipeline().get(UpstreamHandler.class);
        upstreamHandler.attach(this);
        timeouts = client.upstreamTimeouts();
        timeouts.begin(this, options.readTimeout().toNanos(), options.sendTimeout().toNanos());
        writeUpstream(upstreamRequest);
        if (errorPage) {
            // the error page request is complete in itself: the client's body is not sent again
            endWritten = true;
            flushUpstream();
            ch.read();
            return;
        }
        if (replay != null) {
            writeHeldUpstream(); // the head before the body written directly
            ChannelFuture resent = replay.writeTo(ch); // a retry: what the failed attempt already sent
            if (resent != null) {
                lastUpstreamWrite = resent;
            }
        }
        if (pendingBody != null) {
            HttpContent c;
            while ((c = pendingBody.poll()) != null) {
                forwardBody(c);
            }
        }
        if (requestComplete) {
            writeLastUpstream();
        }
        if (!client.inReadBatch()) {
            flushUpstream();
        } // else the read batch's end flushes the head with what the same read brings (onClientReadComplete)
        ch.read(); // an early response or a close must be seen even while the body is still streaming
    }

    private void detachUpstream(boolean reuse) {
        Channel ch = upstream;
        if (ch == null) {
            return;
        }
        upstreamHandler.detach();
        upstream = null;
        upstreamHandler = null;
        upstreamWritePending = false;
        upstreamFlushInFlight = false;
        if (heldUpstreamWrite != null) {
            ReferenceCountUtil.release(heldUpstreamWrite);
            heldUpstreamWrite = null;
        }
        if (reuse && !(ch instanceof Http2StreamChannel)) { // a stream is used once; its connection stays
            server.upstreams(ctx.channel().eventLoop()).release(upstreamKey, ch);
        } else {
            ch.close();
        }
    }

    // ---------------------------------------------------------------- request body, client -> upstream

    void onClientContent(HttpContent c) {
        if (c.decoderResult().isFailure()) {
            c.release();
            clientProtocolError();
            return;
        }
        HttpContent body = c;
        boolean last = c instanceof LastHttpContent;
        if (last) {
            requestComplete = true;
            LastHttpContent lc = (LastHttpContent) c;
            if (!lc.trailingHeaders().isEmpty()) {
                trailers = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, lc.trailingHeaders());
            }
            if (lc.content().isReadable()) {
                body = new DefaultHttpContent(lc.content()); // takes over the buffer
            } else {
                lc.release();
                body = null;
            }
        }
        if (mirror != null) {
            // the copy gets the body even when the upstream stopped reading it (an early answer)
            if (body != null) {
                mirror.body(body.content());
            }
            if (last) {
                mirror.bodyEnded(trailers);
                mirror = null;
            }
        }
        if (discardBody || finished) {
            if (body != null) {
                body.release();
            }
            if (last) {
                maybeFinish();
            }
            return;
        }
        if (body != null) {
            bodyBytes += body.content().readableBytes();
            long max = options.maxBodySize();
            if (max > 0 && bodyBytes > max) {
                body.release();
                bodyTooLarge();
                return;
            }
            if (upstream != null) {
                forwardBody(body);
            } else {
                if (pendingBody == null) {
                    pendingBody = new ArrayDeque<>(4);
                }
                pendingBody.add(body);
            }
        }
        if (last && upstream != null) {
            writeLastUpstream();
        }
        if (bufferingBody && (requestComplete || bodyBytes >= ProxyTuning.REQUEST_BUFFER_LIMIT)) {
            bodyBuffered();
        }
    }

    void onClientReadComplete() {
        if (finished) {
            return;
        }
        if (upstreamWritePending) {
            flushUpstream();
        } else if (!requestComplete) {
            if (discardBody || bufferingBody || (upstream != null && !upstreamFlushInFlight)) {
                client.readMore();
            }
        }
    }

    private void forwardBody(HttpContent c) {
        if (!c.content().isReadable()) {
            c.release();
            return;
        }
        if (!responseStarted) { // no retry once the response has started: nothing to keep
            if (replay == null) {
                replay = new ReplayBuffer(replayLimit);
            }
            replay.add(c);
        }
        writeUpstream(c);
    }

    /** Whether the request could be sent again: no body byte went out, or all of them are kept. */
    private boolean bodyReplayable() {
        return replay == null || replay.replayable();
    }

    private void releaseReplay() {
        if (replay != null) {
            replay.discard();
        }
    }

    private void writeLastUpstream() {
        if (!(upstreamRequest instanceof FullHttpRequest)) { // else the request carried its end
            writeUpstream(trailers != null ? trailers : LastHttpContent.EMPTY_LAST_CONTENT);
        }
        endWritten = true;
    }

    private void writeUpstream(Object msg) {
        Object held = heldUpstreamWrite;
        if (held instanceof HttpRequest head && !(held instanceof FullHttpRequest) && msg instanceof LastHttpContent last
                && !(upstream instanceof Http2StreamChannel)) {
            // a request without a body: head and end go through the pipeline as one message
            heldUpstreamWrite = new DefaultFullHttpRequest(head.protocolVersion(), head.method(), head.uri(),
                    last.content(), head.headers(), last.trailingHeaders());
            return;
        }
        if (held != null) {
            upstream.write(held, upstream.voidPromise());
        }
        heldUpstreamWrite = msg;
        upstreamWritePending = true;
    }

    /** Writes the held message, with a promise only where writes complete later ({@link #completesLater}). */
    private void writeHeldUpstream() {
        if (heldUpstreamWrite != null) {
            if (completesLater(upstream)) {
                lastUpstreamWrite = upstream.write(heldUpstreamWrite);
            } else {
                upstream.write(heldUpstreamWrite, upstream.voidPromise());
            }
            heldUpstreamWrite = null;
        }
    }

    private void flushUpstream() {
        writeHeldUpstream();
        upstreamWritePending = false;
        upstreamFlushInFlight = true;
        timeouts.sendStarted(this);
        boolean coversEnd = endWritten;
        Channel ch = upstream;
        ch.flush();
        ChannelFuture out = stillLeaving(ch, ch, lastUpstreamWrite);
        if (out == null) {
            upstreamFlushed(ch, true, coversEnd);
        } else {
            out.addListener((ChannelFutureListener) f -> upstreamFlushed(f.channel(), f.isSuccess(), coversEnd));
        }
    }

    /**
     * After a flush of {@code ch}: {@code null} when everything written has left, else the future
     * that completes once it has — {@code lastPromised} where writes complete later, or an empty
     * write through {@code writer} (done when all before it is).
     */
    private static ChannelFuture stillLeaving(Channel ch, ChannelOutboundInvoker writer, ChannelFuture lastPromised) {
        if (completesLater(ch)) {
            return lastPromised;
        }
        return flushedWhole(ch) ? null : writer.writeAndFlush(Unpooled.EMPTY_BUFFER);
    }

    /**
     * Whether a write to {@code ch} is known to be done only later, so the last write before a
     * flush carries the promise the flush listens to: an HTTP/2 stream (there is no outbound
     * buffer to ask) and an io_uring socket (a flush submits the write; it completes in a later
     * turn of the loop). Elsewhere every write goes with the void promise and the channel is asked
     * after the flush ({@link #flushedWhole}).
     */
    private static boolean completesLater(Channel ch) {
        return ch instanceof Http2StreamChannel || ch instanceof IoUringSocketChannel;
    }

    /**
     * Whether everything written to an epoll or NIO socket has left after a flush: the usual case
     * for a small message, which then needs no promise to say so.
     */
    private static boolean flushedWhole(Channel ch) {
        ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        // isEmpty() counts flushed messages only: a handler that holds a flush back leaves bytes pending
        return out != null && out.isEmpty() && out.totalPendingWriteBytes() == 0 && ch.isActive();
    }

    /**
     * A flush of the upstream connection {@code ch} went out ({@code ok}) or failed;
     * {@code coversEnd}: it carried the request's end.
     */
    private void upstreamFlushed(Channel ch, boolean ok, boolean coversEnd) {
        if (finished || ch != upstream) {
            return; // an earlier connection
        }
        upstreamFlushInFlight = false;
        timeouts.sendEnded(this);
        if (!ok) {
            fail(UpstreamFailure.WRITE);
            return;
        }
        if (!requestSent && coversEnd) {
            requestSent = true;
            if (!upstreamDone) {
                timeouts.readStarted(this); // NGINX starts proxy_read_timeout once the request is sent
            }
        }
        if (!requestComplete && !discardBody) {
            client.readMore();
        }
    }

    // ---------------------------------------------------------------- response, upstream -> client

    @Override
    public void onUpstreamMessage(UpstreamHandler from, Object msg) {
        if (from != upstreamHandler || finished) {
            ReferenceCountUtil.release(msg);
            return;
        }
        timeouts.readEnded(this);
        if (msg instanceof HttpResponse r) {
            if (r.decoderResult().isFailure() || r.status().code() < 100 || r.status().code() > 999) {
                // NGINX reads exactly three digits of status ("upstream sent invalid header"); Netty takes any int
                ReferenceCountUtil.release(msg);
                log.debug("[{}] bad response from {}: {}", ingress, endpoint, r.decoderResult().isFailure()
                        ? r.decoderResult().cause().toString() : "status " + r.status().code());
                fail(UpstreamFailure.BAD_RESPONSE);
                return;
            }
            if (r.status().code() == 101 && upgrade && !responseStarted) {
                ReferenceCountUtil.release(msg);
                switchProtocols(r);
                return;
            }
            if (r.status().code() < 200) {
                // 100 Continue and other interim responses: Expect was answered by the proxy
                skipInformational = true;
                ReferenceCountUtil.release(msg);
                return;
            }
            if (responseStarted) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (!errorPage && route.options().errorPages() != null
                    && route.options().errorPages().intercepts(r.status().code())) {
                ReferenceCountUtil.release(msg);
                serveErrorPage(r.status().code());
                return;
            }
            responseHead(r);
            if (msg instanceof HttpContent c) {
                responseContent(c);
            }
        } else if (msg instanceof HttpContent c) {
            if (skipInformational) {
                skipInformational = !(c instanceof LastHttpContent);
                c.release();
            } else if (!responseStarted) {
                c.release();
            } else if (c.decoderResult().isFailure()) {
                c.release();
                log.debug("[{}] broken response body from {}", ingress, endpoint);
                fail(UpstreamFailure.BAD_RESPONSE);
            } else {
                responseContent(c);
            }
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    /**
     * The upstream accepted the {@code Upgrade} (101): the 101 goes to the client with the
     * upstream's {@code Upgrade} and the location's cookies (affinity, auth), then both
     * connections become a byte tunnel ({@link ProxyHandler#startTunnel}). The exchange ends here
     * for the access log and metrics (status 101); a {@code limit-connections} slot is held until
     * the tunnel closes.
     */
    private void switchProtocols(HttpResponse r) {
        cancelTimer();
        responseStarted = true;
        releaseReplay();
        releasePendingBody();
        upstreamStatus = 101;
        status = 101;
        endAttempt(101);
        String upgradeTo = r.headers().get(HttpHeaderNames.UPGRADE, "");
        HttpHeaders headers = ForwardedHeaders.toClient(r.headers());
        headers.set(HttpHeaderNames.UPGRADE, upgradeTo);
        headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        applyResponseSettings(headers);
        if (setCookie != null) {
            headers.add(HttpHeaderNames.SET_COOKIE, setCookie);
        }
        if (access != null && access.cookiesFor(101)) {
            headers.add(HttpHeaderNames.SET_COOKIE, access.authCookies());
        }
        if (corsOrigin != null) {
            LocalResponses.addCors(headers, cors, corsOrigin);
        }
        ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, r.status(), Unpooled.EMPTY_BUFFER,
                headers, FlatHttpHeaders.EMPTY));
        Channel tunnelUpstream = upstream;
        upstreamHandler.detach();
        upstream = null;
        upstreamHandler = null;
        finished = true;
        record();
        AccessGate.Pass held = access;
        client.startTunnel(this, tunnelUpstream, options.readTimeout().toNanos(), () -> {
            if (held != null && held.permit() != null) {
                held.permit().release();
            }
        });
    }

    /**
     * The global ConfigMap's response settings on a proxied response: {@code hide-headers}, HSTS
     * on HTTPS (replacing the upstream's own: exactly one, Sluice's, SPEC §10.3), {@code add-headers}.
     */
    private void applyResponseSettings(HttpHeaders headers) {
        for (int i = 0, n = settings.hiddenHeaders().size(); i < n; i++) {
            headers.remove(settings.hiddenHeaders().get(i));
        }
        if (client.https() && settings.hsts() != null) {
            headers.set(LocalResponses.STRICT_TRANSPORT_SECURITY, settings.hsts());
        }
        if (!settings.responseHeaders().isEmpty()) {
            for (Map.Entry<String, String> h : settings.responseHeaders().entrySet()) {
                headers.set(h.getKey(), h.getValue());
            }
        }
    }

    private void responseHead(HttpResponse r) {
        responseStarted = true;
        releaseReplay(); // no retry once the response has started
        int code = r.status().code();
        upstreamStatus = code;
        status = code;
        upstreamReusable = HttpUtil.isKeepAlive(r) && !options.tuning().http10(); // 1.0 sent Connection: close
        boolean chunked = HttpUtil.isTransferEncodingChunked(r); // read before toClient drops the framing
        HttpHeaders headers = ForwardedHeaders.toClient(r.headers()); // r's own headers, edited in place
        if (!errorPage) {
            rewriteResponseHeaders(headers, options.headerRewrites(), code);
        }
        applyResponseSettings(headers);
        if (setCookie != null) {
            headers.add(HttpHeaderNames.SET_COOKIE, setCookie);
        }
        if (access != null && access.cookiesFor(code)) {
            headers.add(HttpHeaderNames.SET_COOKIE, access.authCookies());
        }
        if (corsOrigin != null) {
            LocalResponses.addCors(headers, cors, corsOrigin);
        }
        responseStartNanos = System.nanoTime();
        if (table.compression().enabled()) {
            compressResponse(code, headers);
        }
        boolean bodyless = head || code == 204 || code == 304;
        if (!bodyless && (chunked || !headers.contains(HttpHeaderNames.CONTENT_LENGTH))) {
            if (clientHttp11) {
                headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                headers.remove(HttpHeaderNames.CONTENT_LENGTH);
            } else {
                keepAlive = false; // an HTTP/1.0 client learns the end of the body from the close
            }
        }
        if (client.draining()) {
            keepAlive = false;
        }
        if (!keepAlive) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (!clientHttp11) {
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        // the upstream's head goes on when it can (its headers were edited in place above)
        clientHead = r.getClass() == DefaultHttpResponse.class && r.protocolVersion() == HttpVersion.HTTP_1_1
                ? r : new DefaultHttpResponse(HttpVersion.HTTP_1_1, r.status(), headers);
        writeClient(clientHead);
    }

    /**
     * Decides whether the response is compressed ({@link ResponseCompression#choose}); if so its
     * headers become those of the compressed body and the body is encoded as it streams.
     */
    private void compressResponse(int code, HttpHeaders headers) {
        ResponseCompression.Choice choice = ResponseCompression.choose(table.compression(),
                request.headers().get(HttpHeaderNames.ACCEPT_ENCODING), head, clientHttp11, code, headers);
        if (choice == ResponseCompression.Choice.NONE) {
            return;
        }
        ResponseCompression.addVary(headers);
        if (choice != ResponseCompression.Choice.IDENTITY) {
            ResponseCompression.compressedHeaders(headers, choice);
            compression = ResponseCompression.start(table.compression(), choice);
        }
    }

    private void responseContent(HttpContent chunk) {
        HttpContent c = chunk;
        if (compression != null) {
            if (c instanceof LastHttpContent last) {
                c = compression.finish(last);
                compression = null;
            } else {
                c = compression.encode(c);
                if (c == null) {
                    return; // nothing to send yet: the next upstream read follows
                }
            }
        }
        bytesSent += c.content().readableBytes();
        if (c instanceof LastHttpContent) {
            upstreamDone = true;
            cancelTimer();
            endAttempt(upstreamStatus);
            boolean reusable = upstreamReusable && requestSent;
            if (!requestComplete) {
                discardBody = true; // the upstream answered before reading the whole body
                releasePendingBody();
            }
            detachUpstream(reusable);
            writeClient(c);
            writeHeldClient();
            clientWritePending = false;
            long delay = pacingDelay();
            if (delay > 0) {
                ctx.executor().schedule(() -> {
                    if (!finished) {
                        flushClientThen(true);
                    }
                }, delay, TimeUnit.NANOSECONDS);
                return;
            }
            flushClientThen(true);
        } else {
            writeClient(c);
        }
    }

    private void writeClient(Object msg) {
        Object held = heldClientWrite;
        if (held instanceof HttpResponse head && !(held instanceof FullHttpResponse) && msg instanceof LastHttpContent last
                && !client.http2()) {
            // the whole response in one read: one message, which Netty's encoder writes as one
            // buffer when the body is small (one write() instead of a writev of head and body)
            heldClientWrite = new DefaultFullHttpResponse(head.protocolVersion(), head.status(),
                    mergeableBody(last.content()), head.headers(), last.trailingHeaders());
            return;
        }
        if (held != null) {
            ctx.write(held, ctx.voidPromise());
        }
        heldClientWrite = msg;
        clientWritePending = true;
    }

    /**
     * The body of a one-read response in a buffer the encoder copies into the head's buffer
     * without allocating. A decoded body is a slice of the upstream's input buffer, and Netty's
     * pooled buffers copy from a slice through two fresh {@code ByteBuffer} views (~170 bytes
     * per response, a tenth of a request's allocation); copied out of the slice first by its
     * memory address, the encoder's merge takes its allocation-free path.
     */
    private ByteBuf mergeableBody(ByteBuf body) {
        int length = body.readableBytes();
        if (length == 0 || length > MERGED_BODY_LIMIT || body.unwrap() == null) {
            return body;
        }
        ByteBuf copy = ctx.alloc().directBuffer(length);
        body.getBytes(body.readerIndex(), copy, 0, length);
        copy.writerIndex(length);
        body.release();
        return copy;
    }

    /** Writes the held message, with a promise only where writes complete later ({@link #completesLater}). */
    private void writeHeldClient() {
        if (heldClientWrite != null) {
            if (completesLater(ctx.channel())) {
                lastClientWrite = ctx.write(heldClientWrite);
            } else {
                ctx.write(heldClientWrite, ctx.voidPromise());
            }
            heldClientWrite = null;
        }
    }

    /**
     * Flushes what was written to the client; once it is out, the response is complete
     * ({@code end}) or the next upstream read may start.
     */
    private void flushClientThen(boolean end) {
        ctx.flush();
        ChannelFuture out = stillLeaving(ctx.channel(), ctx, lastClientWrite);
        if (out != null) {
            out.addListener(end ? responseWrittenListener() : (ChannelFutureListener) f -> clientFlushed(f.isSuccess()));
        } else if (end) {
            responseWritten(true);
        } else {
            clientFlushed(true);
        }
    }

    private ChannelFutureListener responseWrittenListener() {
        return f -> responseWritten(f.isSuccess());
    }

    @Override
    public void onUpstreamReadComplete(UpstreamHandler from) {
        if (from != upstreamHandler || finished) {
            return;
        }
        if (clientWritePending) {
            long delay = pacingDelay();
            if (delay > 0) {
                ctx.executor().schedule(this::flushClient, delay, TimeUnit.NANOSECONDS);
            } else {
                flushClient();
            }
        } else if (!upstreamDone) {
            readUpstream();
        }
    }

    /** Sends what was written to the client; the next upstream read waits until it is out. */
    private void flushClient() {
        if (finished || !clientWritePending) {
            return;
        }
        clientWritePending = false;
        writeHeldClient();
        flushClientThen(false);
    }

    private void clientFlushed(boolean ok) {
        if (finished) {
            return;
        }
        if (!ok) {
            clientGone();
            return;
        }
        if (!upstreamDone && upstream != null) {
            readUpstream();
        }
    }

    /**
     * How long the response bytes written so far must wait before they are sent, under
     * {@code limit-rate} (NGINX's {@code limit_rate}: the first {@code limit-rate-after} bytes at
     * once, the rest at the rate); {@code 0} without a limit. Holding the flush also holds the next
     * upstream read, so the upstream is not read faster than the client is served.
     */
    private long pacingDelay() {
        BandwidthLimit bandwidth = access == null ? null : access.bandwidth();
        return bandwidth == null ? 0 : bandwidth.delayNanos(bytesSent, System.nanoTime() - responseStartNanos);
    }

    private void readUpstream() {
        upstream.read();
        if (requestSent) {
            timeouts.readStarted(this);
        }
    }

    @Override
    public void onUpstreamClosed(UpstreamHandler from) {
        if (from != upstreamHandler || finished || upstreamDone) {
            return;
        }
        log.debug("[{}] upstream {} closed before the response ended", ingress, endpoint);
        fail(UpstreamFailure.CLOSED);
    }

    private void responseWritten(boolean ok) {
        if (finished) {
            return;
        }
        if (!ok) {
            clientGone();
            return;
        }
        responseComplete = true;
        maybeFinish();
    }

    // ---------------------------------------------------------------- timeouts

    @Override
    public void deadlinePassed(UpstreamTimeouts.Deadline which) {
        if (finished || upstream == null) {
            return;
        }
        if (which == UpstreamTimeouts.Deadline.READ) {
            log.debug("[{}] upstream {} read timed out after {}", ingress, endpoint, options.readTimeout());
            fail(UpstreamFailure.READ_TIMEOUT);
        } else {
            log.debug("[{}] upstream {} send timed out after {}", ingress, endpoint, options.sendTimeout());
            fail(UpstreamFailure.SEND_TIMEOUT);
        }
    }

    private void cancelTimer() {
        if (timeouts != null) {
            timeouts.end(this);
        }
    }

    // ---------------------------------------------------------------- failures and retries

    private void fail(UpstreamFailure failure) {
        if (finished) {
            return;
        }
        // an upstream that enforces the forwarded grpc-timeout itself resets the stream at about the
        // time the proxy's own timer fires, whichever runs first: past the deadline it is the deadline
        UpstreamFailure kind = callDeadlinePassedAlready() ? UpstreamFailure.CALL_DEADLINE : failure;
        cancelTimer();
        detachUpstream(false);
        if (responseStarted) {
            endAttempt(upstreamStatus);
            abortResponse();
            return;
        }
        endAttempt(kind.status());
        RetryPolicy.Decision next = RetryPolicy.decide(kind, request.method(), bodyReplayable(), reused, staleRetried,
                attempts, RetryPolicy.maxAttempts(options.nextUpstreamTries(),
                        errorPage ? route.options().errorPages().backend().backend().endpoints().size()
                                : forward.upstream().backend().endpoints().size()));
        switch (next) {
            case RETRY_SAME_ENDPOINT_FRESH -> {
                // a pooled connection the upstream had already closed: once more on a new one
                staleRetried = true;
                attemptPicked = false; // same endpoint again, not a new pick
                connect(endpoint, true);
            }
            case RETRY_NEW_ENDPOINT -> {
                avoid(endpoint);
                attempts++;
                attemptPicked = true;
                connect(pickEndpoint(), false);
            }
            default -> {
                if (!requestComplete) {
                    keepAlive = false; // do not read the rest of a body we could not deliver
                }
                if (!serveErrorPage(next.status())) {
                    respond(next.status(), null);
                }
            }
        }
    }

    private void clientProtocolError() {
        keepAlive = false;
        discardBody = true;
        releasePendingBody();
        if (responseStarted) {
            abortResponse();
        } else {
            abandonUpstream();
            respond(400, null);
        }
    }

    /** The response cannot be completed: close the client connection (it sees a truncated body). */
    private void abortResponse() {
        keepAlive = false;
        finish(false);
        client.abort();
    }

    private void clientGone() {
        if (finished) {
            return;
        }
        keepAlive = false;
        finish(false);
        client.abort();
    }

    /**
     * The client sent nothing for a while. Only matters while the proxy waits for request body
     * (NGINX's {@code client_body_timeout}): answer 408 and close.
     */
    void onClientIdle() {
        if (finished || requestComplete || upstreamFlushInFlight || upstreamWritePending) {
            return; // waiting for the upstream, not for the client
        }
        if (responseStarted) {
            abortResponse();
            return;
        }
        abandonUpstream();
        rejectRequest(408);
    }

    /**
     * A body without {@code Content-Length} (chunked) grew past {@code proxy-body-size} while
     * streaming: answer 413 and close if the upstream has not started answering, else close the
     * connection (the client sees a truncated response). The upstream attempt is abandoned.
     */
    private void bodyTooLarge() {
        keepAlive = false;
        discardBody = true;
        abortMirror();
        if (responseStarted) {
            abortResponse();
            return;
        }
        abandonUpstream();
        respond(413, null);
    }

    /** Gives up the current upstream attempt (connected or still connecting) before answering locally. */
    private void abandonUpstream() {
        cancelTimer();
        if (upstream != null) {
            endAttempt(502);
            detachUpstream(false);
        }
        cancelConnect();
    }

    /** The client connection closed: stop everything, never pool an upstream mid-response. */
    void onClientClosed() {
        if (finished) {
            return;
        }
        if (!responseStarted) {
            status = 499; // NGINX's "client closed request"
        }
        keepAlive = false;
        finish(false);
    }

    // ---------------------------------------------------------------- local responses and the end

    private void respond(int code, String location) {
        responseStarted = true;
        status = code;
        discardBody = true;
        releasePendingBody();
        if (client.draining()) {
            keepAlive = false;
        }
        if (grpcCall && code >= 400) {
            // the status is logged and counted as the HTTP status; the client reads grpc-status
            bytesSent = 0;
            FullHttpResponse grpcError = Grpc.errorResponse(code);
            if (hsts() != null) {
                grpcError.headers().set(LocalResponses.STRICT_TRANSPORT_SECURITY, hsts()); // as every HTTPS answer
            }
            ctx.writeAndFlush(grpcError).addListener(responseWrittenListener());
            return;
        }
        if (code == 204 && corsOrigin != null) {
            bytesSent = 0;
            ctx.writeAndFlush(LocalResponses.preflight(cors, corsOrigin, keepAlive, hsts()))
                    .addListener(responseWrittenListener());
            return;
        }
        bytesSent = head ? 0 : LocalResponses.bodyLength(code);
        FullHttpResponse response = LocalResponses.response(code, location, keepAlive, head, hsts());
        clientHead = response;
        for (Map.Entry<String, String> h : settings.responseHeaders().entrySet()) {
            response.headers().set(h.getKey(), h.getValue()); // add-headers: local answers too
        }
        if (localHeaders != null) {
            response.headers().add(localHeaders);
        }
        if (route != null && !errorPage) {
            addCustomHeaders(response.headers(), route.options().headerRewrites(), code);
        }
        if (access != null && access.cookiesFor(code)) {
            response.headers().add(HttpHeaderNames.SET_COOKIE, access.authCookies());
        }
        if (corsOrigin != null) {
            LocalResponses.addCors(response.headers(), cors, corsOrigin);
        }
        ctx.writeAndFlush(response).addListener(responseWrittenListener());
    }

    /**
     * {@code custom-http-errors} (SPEC §4.5): when the location lists {@code code}, the answer is
     * replaced by the default backend's: a bodiless request with the client's method to {@code /}
     * with the {@code X-Code} family of headers, whose response (status included) goes to the
     * client. The upstream answer being replaced is dropped with its connection; the rest of the
     * client's body is read and dropped. Without a default backend with endpoints the built-in
     * 404 answers, as ingress-nginx's internal default server does. Errors of the default backend
     * itself are not replaced again (NGINX's {@code proxy_intercept_errors off} there).
     *
     * @return whether the error page took over the answer
     */
    private boolean serveErrorPage(int code) {
        ErrorPages pages = route == null ? null : route.options().errorPages();
        if (pages == null || errorPage || !pages.intercepts(code) || grpcCall || finished) {
            return false;
        }
        errorPage = true;
        cancelTimer();
        if (upstream != null) {
            endAttempt(code);
            detachUpstream(false);
        }
        cancelConnect();
        releaseReplay();
        replay = null;
        releasePendingBody();
        discardBody = true;
        if (!requestComplete && HttpUtil.is100ContinueExpected(request)) {
            keepAlive = false; // the client may never send the body it announced
        }
        if (pages.backend() == null || !pages.backend().hasEndpoints()) {
            respond(404, null);
            return true;
        }
        options = route.options();
        if (requestId == null) {
            requestId = ForwardedHeaders.requestId(request.headers());
        }
        balancer = pages.backend().balancer();
        backendName = pages.backend().name();
        upstreamTls = null;
        setCookie = null;
        tried = Set.of();
        staleRetried = false;
        HttpHeaders headers = DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
        String host = request.headers().get(HttpHeaderNames.HOST);
        if (host != null) {
            headers.set(HttpHeaderNames.HOST, host);
        }
        addErrorPageHeaders(headers, pages, code);
        headers.set(X_ORIGINAL_URI, request.uri());
        headers.set(ForwardedHeaders.X_FORWARDED_FOR, clientIp != null ? clientIp : client.clientIp());
        upstreamRequest = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, request.method(), "/",
                Unpooled.EMPTY_BUFFER, headers, FlatHttpHeaders.EMPTY);
        Endpoint ep = pickEndpoint();
        if (ep == null) {
            respond(503, null);
            return true;
        }
        attempts = 1;
        attemptPicked = true;
        connect(ep, false);
        return true;
    }

    /** ingress-nginx's headers to the default backend, but {@code X-Original-URI}. */
    private void addErrorPageHeaders(HttpHeaders headers, ErrorPages pages, int code) {
        headers.set(X_CODE, Integer.toString(code));
        String accept = request.headers().get(HttpHeaderNames.ACCEPT);
        if (accept != null && !accept.isEmpty()) {
            headers.set(X_FORMAT, accept); // NGINX sends no header for an empty $http_accept
        } else {
            headers.remove(X_FORMAT);
        }
        headers.set(X_NAMESPACE, pages.namespace());
        headers.set(X_INGRESS_NAME, pages.ingressName());
        headers.set(X_SERVICE_NAME, pages.serviceName());
        headers.set(X_SERVICE_PORT, pages.servicePort());
        headers.set(ForwardedHeaders.X_REQUEST_ID, requestId);
    }

    /** {@code proxy-redirect-*}, {@code proxy-cookie-*} and {@code custom-headers} on a proxied response. */
    private static void rewriteResponseHeaders(HttpHeaders headers, HeaderRewrites rewrites, int code) {
        if (rewrites.rewritesResponse()) {
            String location = headers.get(HttpHeaderNames.LOCATION);
            if (location != null) {
                headers.set(HttpHeaderNames.LOCATION, rewrites.location(location));
            }
            String refresh = headers.get(REFRESH);
            if (refresh != null) {
                headers.set(REFRESH, rewrites.refresh(refresh));
            }
            if (headers.contains(HttpHeaderNames.SET_COOKIE)) {
                java.util.List<String> cookies = headers.getAll(HttpHeaderNames.SET_COOKIE);
                headers.remove(HttpHeaderNames.SET_COOKIE);
                for (String c : cookies) {
                    headers.add(HttpHeaderNames.SET_COOKIE, rewrites.setCookie(c));
                }
            }
        }
        addCustomHeaders(headers, rewrites, code);
    }

    private static final AsciiString REFRESH = AsciiString.cached("Refresh");

    /**
     * {@code custom-headers}: ingress-nginx sets them with {@code more_set_headers} without
     * {@code -s}, which touches only the statuses 200, 201, 204, 206, 301, 302, 303, 304, 307
     * and 308.
     */
    private static void addCustomHeaders(HttpHeaders headers, HeaderRewrites rewrites, int code) {
        if (rewrites.responseHeaders().isEmpty()) {
            return;
        }
        switch (code) {
            case 200, 201, 204, 206, 301, 302, 303, 304, 307, 308 ->
                    rewrites.responseHeaders().forEach(headers::set);
            default -> { }
        }
    }

    /** The HSTS value of a response to this client, or {@code null}. */
    private String hsts() {
        return client.https() ? settings.hsts() : null;
    }

    private void maybeFinish() {
        if (finished || !responseComplete) {
            return;
        }
        if (!requestComplete && keepAlive) {
            discardBody = true; // read and drop the rest of the body, then serve the next request
            client.readMore();
            return;
        }
        finish(keepAlive && requestComplete);
    }

    private void finish(boolean keepConnection) {
        if (finished) {
            return;
        }
        finished = true;
        cancelTimer();
        if (callDeadlineTimer != null) {
            callDeadlineTimer.cancel(false);
            callDeadlineTimer = null;
        }
        cancelConnect();
        releasePermit();
        releasePendingBody();
        releaseReplay();
        abortMirror();
        if (heldClientWrite != null) {
            ReferenceCountUtil.release(heldClientWrite); // never flushed: the connection is closing
            heldClientWrite = null;
        }
        if (compression != null) {
            compression.discard();
            compression = null;
        }
        if (upstream != null) {
            endAttempt(responseStarted ? upstreamStatus : 502);
            detachUpstream(false);
        }
        record();
        client.exchangeFinished(this, keepConnection);
    }

    /** The request body will not be read to its end: a copy still streaming cannot be completed. */
    private void abortMirror() {
        if (mirror != null) {
            mirror.abort();
            mirror = null;
        }
    }

    /** Gives back the {@code limit-connections} slot of this request, if it holds one. */
    private void releasePermit() {
        if (access != null && access.permit() != null) {
            access.permit().release();
        }
    }

    private void cancelConnect() {
        ChannelFuture cf = connecting;
        connecting = null;
        if (cf != null) {
            cf.channel().close(); // also ends a connect still in progress
        }
        Future<Channel> stream = openingStream;
        openingStream = null;
        if (stream != null) {
            stream.cancel(false); // the pool closes a stream that opens after all
        }
    }

    private void releasePendingBody() {
        if (pendingBody != null) {
            HttpContent c;
            while ((c = pendingBody.poll()) != null) {
                c.release();
            }
        }
    }

    private void endAttempt(int code) {
        if (!attemptOpen) {
            return;
        }
        attemptOpen = false;
        long took = System.nanoTime() - attemptStartNanos;
        upstreamNanos = took;
        if (attemptPicked) {
            attemptPicked = false;
            balancer.onResponse(endpoint, took); // once per pick (EWMA latency, in-flight count)
        }
        if (!server.accessLog().enabled()) {
            return; // the upstream_* fields only feed the access log: no strings per request without it
        }
        if (attemptLog == null) {
            attemptLog = new AttemptLog();
        }
        attemptLog.add(endpoint, code, took);
    }

    private void record() {
        long duration = System.nanoTime() - startNanos;
        int code = status == 0 ? 499 : status;
        boolean wentUpstream = attempts > 0;
        RequestMetrics requestMetrics = server.metrics().requests();
        if (requestMetrics.enabled()) { // --enable-metrics=false: not even the sizes are measured
            requestMetrics.record(route, metricHost, canary ? backendName : "", request.method().name(), code,
                    duration, HttpSizes.request(request, bodyBytes), HttpSizes.response(clientHead, bytesSent),
                    wentUpstream ? connectNanos : -1,
                    wentUpstream && responseStartNanos > 0 ? responseStartNanos - attemptStartNanos : -1,
                    wentUpstream ? upstreamNanos : -1);
        }
        AccessLog accessLog = server.accessLog();
        if (accessLog.enabled() && (route == null || route.options().tuning().accessLog())) {
            String host = request.headers().get(HttpHeaderNames.HOST);
            // the start's wall time only when it is logged: one clock read less per request
            long startMillis = System.currentTimeMillis() - TimeUnit.NANOSECONDS.toMillis(duration);
            accessLog.record(new AccessLogEntry(
                    startMillis,
                    clientIp != null ? clientIp : client.clientIp(),
                    request.method().name(),
                    request.uri(),
                    host != null ? host : "",
                    code,
                    bytesSent,
                    duration,
                    attemptLog != null ? attemptLog.addresses() : null,
                    attemptLog != null ? attemptLog.statuses() : null,
                    attemptLog != null ? attemptLog.responseTimes() : null,
                    // NGINX's $req_id exists for every request, those answered before routing too
                    (requestId != null ? requestId : ForwardedHeaders.requestId(request.headers())).toString(),
                    ingress,
                    backendName,
                    canary));
        }
    }
}
