package dev.sluice.gateway.proxy;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * One external auth check ({@code auth-url}): where to send it, how, with which headers, and the
 * connection settings the location gives it.
 *
 * @param url              the {@code auth-url}, {@code http} or {@code https}; its raw path and
 *                         query are the request target ({@code /} when it has no path)
 * @param method           {@code auth-method}, default {@code GET}; no body is ever sent
 * @param headers          the headers to send, normally from {@link ExternalAuthHeaders}; the
 *                         client adds {@code Host} if missing and sets {@code Connection} itself
 * @param connectTimeout   TCP connect plus TLS handshake ({@code proxy-connect-timeout}, 5 s)
 * @param readTimeout      the longest pause between two reads of the answer
 *                         ({@code proxy-read-timeout}, 60 s)
 * @param keepalive        {@code auth-keepalive}: idle connections kept per event loop and auth
 *                         host; 0 (the default) closes the connection after each check
 * @param keepaliveTimeout {@code auth-keepalive-timeout}: how long a connection may stay idle (60 s)
 * @param keepaliveRequests {@code auth-keepalive-requests}: checks per connection before it is
 *                         closed (1000)
 */
public record ExternalAuthRequest(URI url, HttpMethod method, HttpHeaders headers, Duration connectTimeout,
        Duration readTimeout, int keepalive, Duration keepaliveTimeout, int keepaliveRequests) {

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_KEEPALIVE_TIMEOUT = Duration.ofSeconds(60);
    public static final int DEFAULT_KEEPALIVE_REQUESTS = 1000;

    public ExternalAuthRequest {
        Objects.requireNonNull(url, "url");
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("auth URL must be http or https: " + url);
        }
        if (url.getHost() == null || url.getHost().isEmpty()) {
            throw new IllegalArgumentException("auth URL has no host: " + url);
        }
        method = method != null ? method : HttpMethod.GET;
        Objects.requireNonNull(headers, "headers");
        connectTimeout = positive(connectTimeout, DEFAULT_CONNECT_TIMEOUT, "connectTimeout");
        readTimeout = positive(readTimeout, DEFAULT_READ_TIMEOUT, "readTimeout");
        if (keepalive < 0) {
            throw new IllegalArgumentException("keepalive must be >= 0: " + keepalive);
        }
        keepaliveTimeout = positive(keepaliveTimeout, DEFAULT_KEEPALIVE_TIMEOUT, "keepaliveTimeout");
        if (keepaliveRequests <= 0) {
            throw new IllegalArgumentException("keepaliveRequests must be > 0: " + keepaliveRequests);
        }
    }

    /** A check with the defaults: {@code GET}, 5 s connect, 60 s read, no keep-alive. */
    public ExternalAuthRequest(URI url, HttpHeaders headers) {
        this(url, HttpMethod.GET, headers, null, null, 0, null, DEFAULT_KEEPALIVE_REQUESTS);
    }

    /** A check with the given method and timeouts and no keep-alive. */
    public ExternalAuthRequest(URI url, HttpMethod method, HttpHeaders headers, Duration connectTimeout,
            Duration readTimeout) {
        this(url, method, headers, connectTimeout, readTimeout, 0, null, DEFAULT_KEEPALIVE_REQUESTS);
    }

    /** This check with {@code auth-keepalive} connections kept idle for {@code timeout}. */
    public ExternalAuthRequest withKeepalive(int connections, Duration timeout) {
        return new ExternalAuthRequest(url, method, headers, connectTimeout, readTimeout, connections, timeout,
                keepaliveRequests);
    }

    /** Whether the auth service is reached over TLS. */
    public boolean https() {
        return "https".equalsIgnoreCase(url.getScheme());
    }

    /** The port to connect to: the URL's, else 80 or 443. */
    public int port() {
        return url.getPort() > 0 ? url.getPort() : https() ? 443 : 80;
    }

    /** The request target: the URL's raw path and query, {@code /} when the path is empty. */
    public String target() {
        String path = url.getRawPath();
        String target = path == null || path.isEmpty() ? "/" : path;
        return url.getRawQuery() == null ? target : target + "?" + url.getRawQuery();
    }

    private static Duration positive(Duration d, Duration fallback, String what) {
        if (d == null) {
            return fallback;
        }
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive: " + d);
        }
        return d;
    }
}
