package dev.sluice.gateway.route;

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
 */
public record RouteOptions(
        Rewrite rewrite,
        String xForwardedPrefix,
        Duration connectTimeout,
        Duration sendTimeout,
        Duration readTimeout,
        int nextUpstreamTries) {

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_SEND_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(60);
    public static final int DEFAULT_NEXT_UPSTREAM_TRIES = 3;

    /** ingress-nginx's defaults: no rewrite, 5 s / 60 s / 60 s, 3 tries. */
    public static final RouteOptions DEFAULTS = new RouteOptions(
            null, null, DEFAULT_CONNECT_TIMEOUT, DEFAULT_SEND_TIMEOUT, DEFAULT_READ_TIMEOUT,
            DEFAULT_NEXT_UPSTREAM_TRIES);

    public RouteOptions {
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(sendTimeout, "sendTimeout");
        Objects.requireNonNull(readTimeout, "readTimeout");
        if (nextUpstreamTries < 1) {
            throw new IllegalArgumentException("nextUpstreamTries must be >= 1");
        }
    }

    public RouteOptions withRewrite(Rewrite r, String prefix) {
        return new RouteOptions(r, prefix, connectTimeout, sendTimeout, readTimeout, nextUpstreamTries);
    }

    public RouteOptions withTimeouts(Duration connect, Duration send, Duration read) {
        return new RouteOptions(rewrite, xForwardedPrefix, connect, send, read, nextUpstreamTries);
    }

    public RouteOptions withNextUpstreamTries(int tries) {
        return new RouteOptions(rewrite, xForwardedPrefix, connectTimeout, sendTimeout, readTimeout, tries);
    }
}
