package dev.sluice.gateway.proxy;

import dev.sluice.gateway.access.AccessPolicy;
import dev.sluice.gateway.access.Authentication;
import dev.sluice.gateway.access.BandwidthLimit;
import dev.sluice.gateway.access.BasicCredentials;
import dev.sluice.gateway.access.ConnectionLimiter;
import dev.sluice.gateway.access.ConnectionLimiters;
import dev.sluice.gateway.access.DigestNonces;
import dev.sluice.gateway.access.ExternalAuth;
import dev.sluice.gateway.access.RateLimiters;
import dev.sluice.gateway.access.RequestLimits;
import dev.sluice.gateway.access.RequestRateLimiter;
import dev.sluice.gateway.balance.HashKeyExpression;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.request.RequestView;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteTable;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access phase of a request to a {@link AccessPolicy.Guarded} location (SPEC §0.1 step 6), in
 * NGINX's order: {@code limit_conn} and {@code limit_req} (the limit's status, 503), the
 * {@code deny}/{@code allow} source lists (403), then basic, digest or external authentication
 * (401, 403, 500, or 302 to {@code auth-signin}). With {@code satisfy: any}, a client the allowlist
 * admits skips authentication, and one the lists refuse may still authenticate (a denylist alone
 * admits nobody, see {@link AccessPolicy.Guarded#sourceGrants}).
 *
 * <p>One instance per {@link GatewayServer}: it owns the state that outlives a request and a
 * route table (rate-limit buckets and connection counts per Ingress zone, digest nonces, the
 * external-auth client and cache). Every check runs on the client's event loop; an external
 * auth subrequest completes there too, so the caller's callback never changes threads.
 */
final class AccessGate implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AccessGate.class);
    private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory();
    /** Final statuses that get the auth service's {@code Set-Cookie} without {@code auth-always-set-cookie}. */
    private static final int[] COOKIE_STATUSES = {200, 201, 204, 206, 301, 302, 303, 304, 307, 308};

    private final RateLimiters rateLimiters = new RateLimiters();
    private final ConnectionLimiters connectionLimiters = new ConnectionLimiters();
    // made on first use: most configurations never need them, and making them costs start-up CPU
    private final Lazy<DigestNonces> digestNonces = new Lazy<>(DigestNonces::new);
    private final ExternalAuthClient authClient;
    private final Lazy<ExternalAuthCache> authCache = new Lazy<>(ExternalAuthCache::new);

    AccessGate(ExternalAuthClient authClient) {
        this.authClient = authClient;
    }

    /** The verdict on one request. */
    sealed interface Verdict permits Pass, Reject {}

    /**
     * Proxy the request.
     *
     * @param permit            the {@code limit-connections} slot to release when the request ends, or
     *                          {@code null}
     * @param upstreamHeaders   headers to set on the upstream request (the {@code auth-response-headers};
     *                          a name without value removes the client's header), or {@code null}
     * @param dropAuthorization remove {@code Authorization} (basic and digest credentials stay here)
     * @param authCookies       the auth service's {@code Set-Cookie} values, or {@code null}
     * @param alwaysSetCookie   send {@code authCookies} whatever the final status
     * @param bandwidth         {@code limit-rate}, or {@code null}
     */
    record Pass(ConnectionLimiter.Permit permit, HttpHeaders upstreamHeaders, boolean dropAuthorization,
            List<String> authCookies, boolean alwaysSetCookie, BandwidthLimit bandwidth) implements Verdict {

        /** Whether the auth service's cookies go with a response of {@code status}. */
        boolean cookiesFor(int status) {
            if (authCookies == null || authCookies.isEmpty()) {
                return false;
            }
            if (alwaysSetCookie) {
                return true;
            }
            for (int s : COOKIE_STATUSES) {
                if (s == status) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * Answer locally.
     *
     * @param status   401, 403, 500, 302 (sign-in) or the limit status
     * @param location {@code Location} for the sign-in redirect, else {@code null}
     * @param headers  extra response headers ({@code WWW-Authenticate}, {@code Set-Cookie}), or {@code null}
     */
    record Reject(int status, String location, HttpHeaders headers) implements Verdict {}

    /** What the checks need to know about the request. */
    record Request(HttpRequest request, RequestView view, byte[] clientAddress, String clientIp, boolean https,
            String requestId, Duration connectTimeout, Duration readTimeout) {}

    /**
     * Runs the checks of {@code policy}; {@code done} gets the verdict exactly once, on
     * {@code loop}, either before this method returns or when the auth service has answered.
     */
    void check(AccessPolicy.Guarded policy, Request r, EventLoop loop, Consumer<Verdict> done) {
        RequestLimits limits = policy.limits();
        ConnectionLimiter.Permit permit = null;
        if (limits != null && limits.counts(r.clientAddress())) {
            if (limits.connections() > 0) {
                permit = connectionLimiters.forZone(limits.zone(), limits.connections()).tryAcquire(r.clientIp());
                if (permit == null) {
                    done.accept(new Reject(limits.connectionRejectStatus(), null, null));
                    return;
                }
            }
            if (!withinRate(limits, r.clientIp())) {
                release(permit);
                done.accept(new Reject(limits.rejectStatus(), null, null));
                return;
            }
        }
        BandwidthLimit bandwidth = limits == null ? null : limits.bandwidth();
        boolean sourceOk = policy.sourceAllowed(r.clientAddress());
        Authentication auth = policy.authentication();
        if (auth == null || (policy.satisfyAny() && policy.sourceGrants(r.clientAddress()))) {
            if (sourceOk) {
                done.accept(new Pass(permit, null, false, null, false, bandwidth));
            } else {
                release(permit);
                done.accept(new Reject(403, null, null));
            }
            return;
        }
        if (!sourceOk && !policy.satisfyAny()) {
            release(permit);
            done.accept(new Reject(403, null, null));
            return;
        }
        ConnectionLimiter.Permit held = permit;
        Consumer<Verdict> releasing = v -> {
            if (v instanceof Reject) {
                release(held);
            }
            done.accept(v);
        };
        if (auth instanceof Authentication.Basic b) {
            releasing.accept(basic(b, r, permit, bandwidth));
        } else if (auth instanceof Authentication.Digest d) {
            releasing.accept(digest(d, r, permit, bandwidth));
        } else {
            external((ExternalAuth) auth, r, loop, permit, bandwidth, releasing);
        }
    }

    /** {@code limit-rps} and {@code limit-rpm} together: a request one refuses counts for neither. */
    private boolean withinRate(RequestLimits limits, String clientIp) {
        if (limits.rps() == null && limits.rpm() == null) {
            return true;
        }
        List<RequestRateLimiter> limiters = new ArrayList<>(2);
        if (limits.rps() != null) {
            limiters.add(rateLimiters.forZone(limits.zone() + " rps", limits.rps()));
        }
        if (limits.rpm() != null) {
            limiters.add(rateLimiters.forZone(limits.zone() + " rpm", limits.rpm()));
        }
        return RequestRateLimiter.tryAcquireAll(limiters, clientIp, System.currentTimeMillis());
    }

    private static void release(ConnectionLimiter.Permit p) {
        if (p != null) {
            p.release();
        }
    }

    private static Verdict basic(Authentication.Basic b, Request r, ConnectionLimiter.Permit permit,
            BandwidthLimit bandwidth) {
        BasicCredentials c = BasicCredentials.parse(r.request().headers().get(HttpHeaderNames.AUTHORIZATION));
        if (c != null && b.users().verify(c.user(), c.password())) {
            return new Pass(permit, null, true, null, false, bandwidth);
        }
        HttpHeaders h = HEADERS.newHeaders();
        h.set(HttpHeaderNames.WWW_AUTHENTICATE, "Basic realm=\"" + b.realm() + "\"");
        return new Reject(401, null, h);
    }

    private Verdict digest(Authentication.Digest d, Request r, ConnectionLimiter.Permit permit,
            BandwidthLimit bandwidth) {
        long now = System.currentTimeMillis();
        String header = r.request().headers().get(HttpHeaderNames.AUTHORIZATION);
        DigestNonces.Result result = digestNonces.get().verify(d.credentials(), header, r.request().method().name(),
                r.request().uri(), now);
        if (result == DigestNonces.Result.OK) {
            return new Pass(permit, null, true, null, false, bandwidth);
        }
        HttpHeaders h = HEADERS.newHeaders();
        h.set(HttpHeaderNames.WWW_AUTHENTICATE, digestNonces.get().challenge(d.credentials().realm(),
                result == DigestNonces.Result.STALE, now));
        return new Reject(401, null, h);
    }

    private void external(ExternalAuth e, Request r, EventLoop loop, ConnectionLimiter.Permit permit,
            BandwidthLimit bandwidth, Consumer<Verdict> done) {
        URI url;
        try {
            url = e.url().resolve(r.view());
        } catch (IllegalArgumentException bad) {
            // as NGINX's auth_request when the subrequest cannot be made
            log.debug("auth-url {} for {}: {}", e.url(), r.request().uri(), bad.getMessage());
            done.accept(new Reject(500, null, null)); // the caller's callback releases the permit of a Reject
            return;
        }
        String cacheKey = e.cacheKey() == null ? null
                : url + " " + e.method() + " " + e.cacheKey().evaluate(r.view());
        if (cacheKey != null) {
            ExternalAuthResult cached = authCache.get().get(cacheKey);
            if (cached != null) {
                done.accept(verdict(e, r, cached, permit, bandwidth));
                return;
            }
        }
        HttpRequest req = r.request();
        String scheme = r.https() ? "https" : "http";
        HttpHeaders headers = ExternalAuthHeaders.subrequest(req.headers(), scheme,
                req.headers().get(HttpHeaderNames.HOST), req.uri(), req.method().name(), r.clientIp(), r.requestId(),
                url, e.method(), e.requestRedirect(), e.proxySetHeaders());
        ExternalAuthRequest sub = new ExternalAuthRequest(url,
                e.method() == null ? HttpMethod.GET : HttpMethod.valueOf(e.method()), headers, r.connectTimeout(),
                r.readTimeout(), e.keepalive(), e.keepaliveTimeout(), e.keepaliveRequests());
        authClient.check(loop, sub, result -> {
            if (cacheKey != null && result.status() != 0) {
                authCache.get().put(cacheKey, result, e.cacheValidity());
            }
            done.accept(verdict(e, r, result, permit, bandwidth));
        });
    }

    /** The auth service's answer as a verdict (SPEC §7 {@code auth-url}). */
    private static Verdict verdict(ExternalAuth e, Request r, ExternalAuthResult result,
            ConnectionLimiter.Permit permit, BandwidthLimit bandwidth) {
        int status = result.status();
        List<String> cookies = result.headers().getAll(HttpHeaderNames.SET_COOKIE);
        if (status >= 200 && status < 300) {
            HttpHeaders up = null;
            if (!e.responseHeaders().isEmpty()) {
                up = HEADERS.newHeaders();
                for (String name : e.responseHeaders()) {
                    // NGINX's proxy_set_header with an empty $authHeader removes the client's header:
                    // a client never gets to claim an identity the auth service did not give
                    String v = result.headers().get(name);
                    up.set(name, v == null ? "" : v);
                }
            }
            return new Pass(permit, up, false, cookies, e.alwaysSetCookie(), bandwidth);
        }
        HttpHeaders h = HEADERS.newHeaders();
        if (e.alwaysSetCookie()) {
            h.add(HttpHeaderNames.SET_COOKIE, cookies);
        }
        if (status == 401) {
            if (e.signin() != null) {
                return new Reject(302, signinLocation(e, r), h);
            }
            String challenge = result.headers().get(HttpHeaderNames.WWW_AUTHENTICATE);
            if (challenge != null) {
                h.set(HttpHeaderNames.WWW_AUTHENTICATE, challenge);
            }
            return new Reject(401, null, h);
        }
        if (status == 403) {
            return new Reject(403, null, h);
        }
        return new Reject(500, null, h);
    }

    /**
     * {@code <auth-signin>?rd=<scheme>://<Host><escaped request URI>} (ingress-nginx's
     * {@code buildAuthSignURL}; {@code &} when the sign-in URL has a query; nothing appended when
     * it already carries the parameter).
     */
    static String signinLocation(ExternalAuth e, Request r) {
        // whether the parameter is there is decided on the annotation as written, as ingress-nginx does
        String written = e.signin().source();
        String signin = e.signin().expand(r.view());
        String param = e.signinRedirectParam();
        int q = written.indexOf('?');
        if (q >= 0 && ("&" + written.substring(q + 1)).contains("&" + param + "=")) {
            return signin;
        }
        String host = r.request().headers().get(HttpHeaderNames.HOST, "");
        String rd = (r.https() ? "https" : "http") + "://" + host + HashKeyExpression.escapeUri(r.request().uri());
        return signin + (signin.indexOf('?') >= 0 ? "&" : "?") + param + "=" + rd;
    }

    /**
     * Forgets the limit zones {@code table} no longer uses (an Ingress deleted or its limits
     * removed), so the zone registries stay bounded; zones still in use keep their counts, as
     * NGINX keeps a zone across reloads.
     */
    void retainZonesOf(RouteTable table) {
        Set<String> rate = new HashSet<>();
        Set<String> connections = new HashSet<>();
        List<HostRoutes> hosts = new ArrayList<>(table.hosts().values());
        hosts.addAll(table.wildcards().values());
        hosts.add(table.catchAll());
        for (HostRoutes h : hosts) {
            for (Route route : h.routes()) {
                zones(route, rate, connections);
            }
            zones(h.fallback(), rate, connections);
        }
        rateLimiters.retainZones(rate);
        connectionLimiters.retainZones(connections);
    }

    private static void zones(Route route, Set<String> rate, Set<String> connections) {
        if (route.options().access() instanceof AccessPolicy.Guarded g && g.limits() != null) {
            RequestLimits l = g.limits();
            if (l.rps() != null) {
                rate.add(l.zone() + " rps");
            }
            if (l.rpm() != null) {
                rate.add(l.zone() + " rpm");
            }
            if (l.connections() > 0) {
                connections.add(l.zone());
            }
        }
    }

    @Override
    public void close() {
        authClient.close();
    }
}
