package dev.sluice.gateway.proxy;

import dev.sluice.gateway.request.HostNormalizer;
import dev.sluice.gateway.request.RequestView;
import dev.sluice.gateway.request.SimpleRequestView;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The data plane's {@link RequestView}: reads Netty's {@link HttpRequest} headers in place (no
 * copy) and decodes the {@code Cookie} header(s) with Netty's strict RFC 6265 decoder the first
 * time a cookie is asked for. Create one per request on the event loop; it is not thread-safe.
 */
public final class NettyRequestView implements RequestView {
    private final HttpRequest request;
    private final String remoteAddress;
    private final boolean https;
    private String host;
    private Map<String, String> cookies;

    private NettyRequestView(HttpRequest request, String remoteAddress, boolean https) {
        this.request = Objects.requireNonNull(request, "request");
        this.remoteAddress = Objects.requireNonNull(remoteAddress, "remoteAddress");
        this.https = https;
    }

    /**
     * A view of {@code request} received from {@code remote} (normally
     * {@code channel.remoteAddress()}) on a plain or TLS connection.
     */
    public static NettyRequestView of(HttpRequest request, SocketAddress remote, boolean https) {
        return new NettyRequestView(request, addressText(remote), https);
    }

    /** As {@link #of(HttpRequest, SocketAddress, boolean)} with the client address already as text. */
    public static NettyRequestView of(HttpRequest request, String remoteAddress, boolean https) {
        return new NettyRequestView(request, remoteAddress, https);
    }

    @Override
    public String header(String lowerCaseName) {
        return request.headers().get(lowerCaseName);
    }

    @Override
    public String cookie(String name) {
        if (cookies == null) {
            cookies = decodeCookies(request.headers());
        }
        return cookies.get(name);
    }

    @Override
    public String remoteAddress() {
        return remoteAddress;
    }

    @Override
    public String requestUri() {
        return request.uri();
    }

    @Override
    public String host() {
        if (host == null) {
            host = HostNormalizer.normalize(request.headers().get(HttpHeaderNames.HOST));
        }
        return host;
    }

    @Override
    public boolean https() {
        return https;
    }

    @Override
    public long contentLength() {
        String v = request.headers().get(HttpHeaderNames.CONTENT_LENGTH);
        if (v == null || HttpUtil.isTransferEncodingChunked(request)) {
            return -1;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return -1; // the decoder rejects such requests before routing
        }
    }

    @Override
    public String method() {
        return request.method().name();
    }

    private static Map<String, String> decodeCookies(HttpHeaders headers) {
        // HTTP/2 clients may send one Cookie header per cookie; NGINX reads them all in order.
        java.util.List<String> all = headers.getAll(HttpHeaderNames.COOKIE);
        if (all.isEmpty()) {
            return Map.of();
        }
        if (all.size() == 1) {
            return SimpleRequestView.parseCookies(all.get(0));
        }
        Map<String, String> out = new HashMap<>();
        for (String h : all) {
            SimpleRequestView.parseCookies(h).forEach(out::putIfAbsent);
        }
        return out;
    }

    /** RFC 5952 text of the IP ({@code ::1}, not {@code 0:0:0:0:0:0:0:1}), as NGINX prints it. */
    static String addressText(SocketAddress remote) {
        if (remote instanceof InetSocketAddress isa && isa.getAddress() != null) {
            return NetUtil.toAddressString(isa.getAddress());
        }
        if (remote instanceof InetSocketAddress isa) {
            return isa.getHostString();
        }
        return String.valueOf(remote);
    }
}
