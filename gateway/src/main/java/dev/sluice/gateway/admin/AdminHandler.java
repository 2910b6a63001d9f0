package dev.sluice.gateway.admin;

import dev.sluice.gateway.observe.PrometheusText;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.RouteTableHolder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Answers the admin endpoints of {@link AdminServer}; stateless, so one instance serves all channels. */
@Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);

    static final String TEXT = "text/plain; charset=utf-8";
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final String JSON = "application/json";

    private final AdminServer server;

    AdminHandler(AdminServer server) {
        this.server = server;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        FullHttpResponse response;
        if (!request.decoderResult().isSuccess()) {
            response = text(HttpResponseStatus.BAD_REQUEST, "bad request\n");
            HttpUtil.setKeepAlive(response, false);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        boolean head = HttpMethod.HEAD.equals(request.method());
        if (!head && !HttpMethod.GET.equals(request.method())) {
            response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed\n");
            response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
        } else {
            response = route(new QueryStringDecoder(request.uri()));
        }
        if (head) {
            // keep Content-Length of the GET answer, drop the body
            FullHttpResponse full = response;
            response = full.replace(Unpooled.EMPTY_BUFFER);
            full.release();
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        HttpUtil.setKeepAlive(response, keepAlive);
        if (keepAlive) {
            ctx.writeAndFlush(response, ctx.voidPromise());
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private FullHttpResponse route(QueryStringDecoder uri) {
        try {
            return answer(uri);
        } catch (RuntimeException e) {
            log.warn("admin endpoint {} failed", uri.path(), e);
            return text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error: " + e + "\n");
        }
    }

    private FullHttpResponse answer(QueryStringDecoder uri) {
        switch (uri.path()) {
            case "/healthz":
                return text(HttpResponseStatus.OK, "ok");
            case "/readyz": {
                String reason = server.notReadyReason();
                return reason == null
                        ? text(HttpResponseStatus.OK, "ok")
                        : text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready: " + reason + "\n");
            }
            case "/metrics":
                server.jvmMeters();
                // ingress-nginx's counters keep their names (no "_total"), as its dashboards query them
                return response(HttpResponseStatus.OK, PROMETHEUS_TEXT,
                        PrometheusText.ingressNginxNames(server.registry().scrape()));
            case "/routes": {
                RouteTableHolder holder = server.holder();
                // read the generation first: a publish in between shows the newer table with the
                // older number, never a number ahead of its table
                long generation = holder.generation();
                RouteTable table = holder.current();
                return response(HttpResponseStatus.OK, JSON, RoutesJson.renderText(table, generation));
            }
            case "/routes/explain":
                return explain(uri.parameters());
            default:
                return text(HttpResponseStatus.NOT_FOUND,
                        "not found; try /healthz /readyz /metrics /routes /routes/explain?host=&path=\n");
        }
    }

    /**
     * {@code /routes/explain?host=H&path=P[&method=M][&scheme=https][&header=Name:value…][&cookie=n=v…][&format=text]}:
     * how the live table routes that request ({@link RouteExplainer}).
     */
    private FullHttpResponse explain(Map<String, List<String>> params) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (String h : params.getOrDefault("header", List.of())) {
            int colon = h.indexOf(':');
            if (colon <= 0) {
                return text(HttpResponseStatus.BAD_REQUEST, "header=" + h + ": expected Name:value\n");
            }
            headers.put(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
        }
        Map<String, String> cookies = new LinkedHashMap<>();
        for (String c : params.getOrDefault("cookie", List.of())) {
            int eq = c.indexOf('=');
            if (eq <= 0) {
                return text(HttpResponseStatus.BAD_REQUEST, "cookie=" + c + ": expected name=value\n");
            }
            cookies.put(c.substring(0, eq).trim(), c.substring(eq + 1).trim());
        }
        String scheme = first(params, "scheme", "http");
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return text(HttpResponseStatus.BAD_REQUEST, "scheme must be http or https\n");
        }
        String path = first(params, "path", "/");
        if (!path.startsWith("/")) {
            return text(HttpResponseStatus.BAD_REQUEST, "path must start with /\n");
        }
        RouteExplainer.Request request = new RouteExplainer.Request(first(params, "host", ""), path,
                first(params, "method", "GET"), scheme, headers, cookies);
        var explanation = RouteExplainer.explain(server.holder().current(), request);
        return "text".equals(first(params, "format", "json"))
                ? text(HttpResponseStatus.OK, RouteExplainer.text(explanation))
                : response(HttpResponseStatus.OK, JSON, RouteExplainer.json(explanation));
    }

    private static String first(Map<String, List<String>> params, String name, String otherwise) {
        List<String> values = params.get(name);
        return values == null || values.isEmpty() ? otherwise : values.get(0);
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        return response(status, TEXT, body);
    }

    private static FullHttpResponse response(HttpResponseStatus status, String contentType, String body) {
        ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        return r;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("admin connection {} failed", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }
}
