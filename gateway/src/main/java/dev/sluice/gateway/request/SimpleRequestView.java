package dev.sluice.gateway.request;

import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link RequestView} over plain values, for tests and for callers that have no Netty request.
 * Cookies are read from the {@code cookie} header exactly as {@code proxy.NettyRequestView} reads them.
 *
 * <pre>{@code
 * RequestView req = SimpleRequestView.builder()
 *         .header("X-Canary", "always")
 *         .cookie("INGRESSCOOKIE", "abc|def")
 *         .remoteAddress("10.0.0.7")
 *         .requestUri("/api?x=1")
 *         .build();
 * }</pre>
 */
public final class SimpleRequestView implements RequestView {
    private final Map<String, String> headers;
    private final String remoteAddress;
    private final String requestUri;
    private final String host;
    private final boolean https;
    private final String method;
    private final long contentLength;
    private Map<String, String> cookies;

    private SimpleRequestView(Builder b) {
        this.headers = Map.copyOf(b.headers);
        this.remoteAddress = b.remoteAddress;
        this.requestUri = b.requestUri;
        this.host = b.host != null ? b.host : HostNormalizer.normalize(b.headers.get("host"));
        this.https = b.https;
        this.method = b.method;
        this.contentLength = b.contentLength;
    }

    /** An empty request: {@code GET /} from {@code 127.0.0.1}, no headers. */
    public static SimpleRequestView empty() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String header(String lowerCaseName) {
        return headers.get(lowerCaseName);
    }

    @Override
    public String cookie(String name) {
        if (cookies == null) {
            cookies = parseCookies(headers.get("cookie"));
        }
        return cookies.get(name);
    }

    @Override
    public String remoteAddress() {
        return remoteAddress;
    }

    @Override
    public String requestUri() {
        return requestUri;
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public boolean https() {
        return https;
    }

    @Override
    public String method() {
        return method;
    }

    @Override
    public long contentLength() {
        return contentLength;
    }

    @Override
    public String toString() {
        return (https ? "https " : "http ") + host + requestUri + " from " + remoteAddress + " " + headers;
    }

    /** Decodes one {@code Cookie} header value; the first occurrence of a name wins. */
    public static Map<String, String> parseCookies(String cookieHeader) {
        if (cookieHeader == null || cookieHeader.isEmpty()) {
            return Map.of();
        }
        Map<String, String> out = new HashMap<>();
        for (Cookie c : ServerCookieDecoder.STRICT.decodeAll(cookieHeader)) {
            out.putIfAbsent(c.name(), c.value());
        }
        return out;
    }

    /** Collects headers (first value per name kept), cookies and connection facts. */
    public static final class Builder {
        private final Map<String, String> headers = new LinkedHashMap<>();
        private String remoteAddress = "127.0.0.1";
        private String requestUri = "/";
        private String host;
        private boolean https;
        private String method = "GET";
        private long contentLength = -1;

        /** The announced {@code Content-Length} (default {@code -1}: none). */
        public Builder contentLength(long length) {
            this.contentLength = length;
            return this;
        }

        private Builder() {}

        /** The request method (default {@code GET}). */
        public Builder method(String method) {
            this.method = method;
            return this;
        }

        /** Adds a header; a second value for the same name is ignored (views expose the first). */
        public Builder header(String name, String value) {
            headers.putIfAbsent(name.toLowerCase(Locale.ROOT), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** Appends {@code name=value} to the {@code Cookie} header. */
        public Builder cookie(String name, String value) {
            headers.merge("cookie", name + "=" + value, (a, b) -> a + "; " + b);
            return this;
        }

        public Builder remoteAddress(String address) {
            this.remoteAddress = Objects.requireNonNull(address, "address");
            return this;
        }

        public Builder requestUri(String uri) {
            this.requestUri = Objects.requireNonNull(uri, "uri");
            return this;
        }

        /** Sets {@link #host()}; without it the host comes from a {@code Host} header. */
        public Builder host(String host) {
            this.host = HostNormalizer.normalize(host);
            return this;
        }

        public Builder https(boolean https) {
            this.https = https;
            return this;
        }

        public SimpleRequestView build() {
            return new SimpleRequestView(this);
        }
    }
}
