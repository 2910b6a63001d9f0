package dev.sluice.gateway.route;

import dev.sluice.gateway.access.AccessPolicy;
import java.time.Duration;
import java.util.Objects;

/**
 * Per-location request handling taken from the annotations of the Ingress that declared the
 * path.
 *
 * @param rewrite            {@code rewrite-target}, or {@code null}
 * @param xForwardedPrefix   {@code x-forwarded-prefix} value, sent only while a rewrite is active,
 *                           or {@code null}
 * @param connectTimeout     {@code proxy-connect-timeout} (default 5 s)
 * @param sendTimeout        {@code proxy-send-timeout} (default 60 s)
 * @param readTimeout        {@code proxy-read-timeout} (default 60 s)
 * @param nextUpstreamTries  {@code proxy-next-upstream-tries} (default 3): endpoints tried on a
 *                           connect error or timeout before answering 502/504
 * @param sslRedirect        {@code ssl-redirect} (default true): an {@code http} request for a host
 *                           with TLS configured is redirected (308) to {@code https}
 * @param forceSslRedirect   {@code force-ssl-redirect} (default false): every {@code http} request
 *                           is redirected, certificate or not; wins over {@code sslRedirect}
 * @param preserveTrailingSlash {@code preserve-trailing-slash} (default false): the HTTPS redirect
 *                           keeps a trailing {@code /} of the request path
 * @param redirect           {@code permanent-redirect} / {@code temporal-redirect}: every request of
 *                           the location answers this redirect, or {@code null}
 * @param cors               {@code enable-cors} and the {@code cors-*} settings, or {@code null}
 *                           (CORS off)
 * @param maxBodySize        {@code proxy-body-size} in bytes (default 1 MiB; {@code 0} = unlimited):
 *                           a larger request body answers 413
 * @param backendProtocol    {@code backend-protocol} (default {@link BackendProtocol#HTTP})
 * @param upstreamTls        {@code proxy-ssl-*}: how TLS to the Pods is spoken when the protocol asks
 *                           for it ({@link #upstreamTlsFor}); {@link UpstreamTls#DEFAULTS} without them
 * @param access             who may use the location ({@code auth-*}, {@code *-source-range},
 *                           {@code limit-*}, {@code satisfy}); {@link AccessPolicy#OPEN} when the
 *                           Ingress asked for no access control
 * @param tuning             {@code proxy-http-version}, {@code proxy-request-buffering},
 *                           {@code proxy-buffer-size}, {@code enable-access-log}
 */
public record RouteOptions(
        Rewrite rewrite,
        String xForwardedPrefix,
        Duration connectTimeout,
        Duration sendTimeout,
        Duration readTimeout,
        int nextUpstreamTries,
        boolean sslRedirect,
        boolean forceSslRedirect,
        boolean preserveTrailingSlash,
        LocationRedirect redirect,
        CorsPolicy cors,
        long maxBodySize,
        BackendProtocol backendProtocol,
        UpstreamTls upstreamTls,
        AccessPolicy access,
        ProxyTuning tuning) {

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_SEND_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(60);
    public static final int DEFAULT_NEXT_UPSTREAM_TRIES = 3;
    /** {@code proxy-body-size} default: NGINX's {@code client_max_body_size 1m}. */
    public static final long DEFAULT_MAX_BODY_SIZE = 1024 * 1024;

    /**
     * ingress-nginx's defaults: no rewrite, 5 s / 60 s / 60 s, 3 tries, {@code ssl-redirect} on,
     * {@code force-ssl-redirect} and {@code preserve-trailing-slash} off.
     */
    public static final RouteOptions DEFAULTS = new RouteOptions(
            null, null, DEFAULT_CONNECT_TIMEOUT, DEFAULT_SEND_TIMEOUT, DEFAULT_READ_TIMEOUT,
            DEFAULT_NEXT_UPSTREAM_TRIES, true, false, false, null, null, DEFAULT_MAX_BODY_SIZE, BackendProtocol.HTTP, UpstreamTls.DEFAULTS,
            AccessPolicy.OPEN, ProxyTuning.DEFAULTS);

    public RouteOptions {
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(sendTimeout, "sendTimeout");
        Objects.requireNonNull(readTimeout, "readTimeout");
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(backendProtocol, "backendProtocol");
        Objects.requireNonNull(upstreamTls, "upstreamTls");
        Objects.requireNonNull(tuning, "tuning");
        if (maxBodySize < 0) {
            throw new IllegalArgumentException("maxBodySize must be >= 0");
        }
        if (nextUpstreamTries < 1) {
            throw new IllegalArgumentException("nextUpstreamTries must be >= 1");
        }
    }

    public RouteOptions withRewrite(Rewrite r, String prefix) {
        return new RouteOptions(r, prefix, connectTimeout, sendTimeout, readTimeout, nextUpstreamTries,
                sslRedirect, forceSslRedirect, preserveTrailingSlash, redirect, cors, maxBodySize, backendProtocol, upstreamTls, access, tuning);
    }

    public RouteOptions withTimeouts(Duration connect, Duration send, Duration read) {
        return new RouteOptions(rewrite, xForwardedPrefix, connect, send, read, nextUpstreamTries,
                sslRedirect, forceSslRedirect, preserveTrailingSlash, redirect, cors, maxBodySize, backendProtocol, upstreamTls, access, tuning);
    }

    public RouteOptions withNextUpstreamTries(int tries) {
        return new RouteOptions(rewrite, xForwardedPrefix, connectTimeout, sendTimeout, readTimeout, tries,
                sslRedirect, forceSslRedirect, preserveTrailingSlash, redirect, cors, maxBodySize, backendProtocol, upstreamTls, access, tuning);
    }

    /** These options with the HTTPS redirect annotations. */
    public RouteOptions withHttpsRedirect(boolean ssl, boolean force, boolean preserveSlash) {
        return new RouteOptions(rewrite, xForwardedPrefix, connectTimeout, sendTimeout, readTimeout,
                nextUpstreamTries, ssl, force, preserveSlash, redirect, cors, maxBodySize, backendProtocol, upstreamTls, access, tuning);
    }

    /** These options with a fixed redirect ({@code permanent-redirect}/{@code temporal-redirect}), or none. */
    public RouteOptions withRedirect(LocationRedirect r) {
        return new RouteOptions(rewrite, xForwardedPrefix, connectTimeout, sendTimeout, readTimeout,
                nextUpstreamTries, sslRedirect, forceSslRedirect, preserveTrailingSlash, r, cors, maxBodySize, backendProtocol, upstreamTls, access, tuning);
    }

    /** These options with CORS ({@code enable-cors}), or without ({@code null}). */
    public RouteOptions withCors(CorsPolicy c) {
        return new RouteOptions(rewrite, xForwardedPrefix, connectTimeout, sendTimeout, readTimeout,
                nextUpstreamTries, sslRedirect, forceSslRedirect, preserveTrailingSlash, redirect, c, maxBodySize, backendProtocol, upstreamTls, access, tuning);
    }

    /** These options with {@code proxy-body-size} ({@code 0} = unlimited). */
    public RouteOptions withMaxBodySize(long bytes) {
        return new RouteOptions(rewrite, xForwardedPrefix, connectTimeout, sendTimeout, readTimeout,
                nextUpstreamTries, sslRedirect, forceSslRedirect, preserveTrailingSlash, redirect, cors, bytes, backendProtocol, upstreamTls, access, tuning);
    }

    /** These options with another access policy. */
    public RouteOptions withAccess(AccessPolicy a) {
        return new RouteOptions(rewrite, xForwardedPrefix, connectTimeout, sendTimeout, readTimeout,
                nextUpstreamTries, sslRedirect, forceSslRedirect, preserveTrailingSlash, redirect, cors, maxBodySize, backendProtocol, upstreamTls, a, tuning);
    }

    /** These options with {@code backend-protocol}. */
    public RouteOptions withBackendProtocol(BackendProtocol p) {
        return new RouteOptions(rewrite, xForwardedPrefix, connectTimeout, sendTimeout, readTimeout,
                nextUpstreamTries, sslRedirect, forceSslRedirect, preserveTrailingSlash, redirect, cors, maxBodySize, p,
                upstreamTls, access, tuning);
    }

    /** These options with {@code proxy-ssl-*}. */
    public RouteOptions withUpstreamTls(UpstreamTls tls) {
        return new RouteOptions(rewrite, xForwardedPrefix, connectTimeout, sendTimeout, readTimeout,
                nextUpstreamTries, sslRedirect, forceSslRedirect, preserveTrailingSlash, redirect, cors, maxBodySize,
                backendProtocol, tls, access, tuning);
    }

    /** These options with {@code proxy-http-version}, the buffering settings and {@code enable-access-log}. */
    public RouteOptions withTuning(ProxyTuning t) {
        return new RouteOptions(rewrite, xForwardedPrefix, connectTimeout, sendTimeout, readTimeout,
                nextUpstreamTries, sslRedirect, forceSslRedirect, preserveTrailingSlash, redirect, cors, maxBodySize,
                backendProtocol, upstreamTls, access, t);
    }

    /**
     * The TLS settings of an upstream connection for a request of this location, or {@code null}
     * for clear HTTP: {@code HTTPS} always, {@code AUTO_HTTP} when the client came in over TLS
     * (ingress-nginx's {@code $scheme}).
     */
    public UpstreamTls upstreamTlsFor(boolean clientHttps) {
        return switch (backendProtocol) {
            case HTTPS -> upstreamTls;
            case AUTO_HTTP -> clientHttps ? upstreamTls : null;
            default -> null;
        };
    }
}
