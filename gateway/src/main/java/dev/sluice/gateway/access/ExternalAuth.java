package dev.sluice.gateway.access;

import dev.sluice.gateway.balance.HashKeyExpression;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@code auth-url}: every request of the location is first checked by a subrequest to an
 * authentication service, as NGINX's {@code auth_request} in ingress-nginx (SPEC §7).
 *
 * <p>The subrequest (method {@code auth-method}, default {@code GET}, no body) carries the
 * client's headers plus {@code X-Original-URL}, {@code X-Original-Method}, {@code X-Sent-From},
 * {@code X-Real-IP}, {@code X-Forwarded-*}, {@code X-Auth-Request-Redirect}. The service's answer
 * decides: 2xx → the request is proxied, with the {@code auth-response-headers} copied from the
 * answer into the upstream request; 401 → 401 (or, with {@code auth-signin}, 302 to
 * {@code <signin>?rd=<escaped original URL>}); 403 → 403; anything else, or no answer → 500.
 * Example: {@code auth-signin: https://auth.example.com/start} sends {@code GET /a?b=c} on
 * {@code app.example.com} to
 * {@code https://auth.example.com/start?rd=http://app.example.com%2Fa%3Fb%3Dc}.
 *
 * @param url                 {@code auth-url} (http or https), with NGINX variables expanded per
 *                            request ({@link UrlTemplate}: {@code https://$host/oauth2/auth})
 * @param method              {@code auth-method}, or {@code null} when not set (the subrequest is a
 *                            {@code GET})
 * @param signin              {@code auth-signin}, or {@code null}; variables expanded per request
 *                            ({@code https://$host/oauth2/start?rd=$escaped_request_uri})
 * @param signinRedirectParam {@code auth-signin-redirect-param} (default {@code rd})
 * @param responseHeaders     {@code auth-response-headers}: headers copied from the auth answer
 * @param requestRedirect     {@code auth-request-redirect} for {@code X-Auth-Request-Redirect}, or
 *                            {@code null} (the request URI is sent)
 * @param proxySetHeaders     extra subrequest headers ({@code auth-proxy-set-headers})
 * @param cacheKey            {@code auth-cache-key}, or {@code null}: answers are not cached
 * @param cacheValidity       {@code auth-cache-duration}: how long answers of each status stay
 *                            cached (used only with a cache key)
 * @param alwaysSetCookie     {@code auth-always-set-cookie}: the service's {@code Set-Cookie} goes to
 *                            the client whatever the final status (else only with success and
 *                            redirect statuses)
 * @param keepalive           {@code auth-keepalive}: idle connections kept to the service per
 *                            event loop ({@code 0}: a connection per subrequest)
 * @param keepaliveRequests   {@code auth-keepalive-requests}
 * @param keepaliveTimeout    {@code auth-keepalive-timeout}
 */
public record ExternalAuth(UrlTemplate url, String method, UrlTemplate signin, String signinRedirectParam,
        List<String> responseHeaders, String requestRedirect, Map<String, String> proxySetHeaders,
        HashKeyExpression cacheKey, Map<Integer, Duration> cacheValidity, boolean alwaysSetCookie, int keepalive,
        int keepaliveRequests, Duration keepaliveTimeout) implements Authentication {

    public ExternalAuth {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(signinRedirectParam, "signinRedirectParam");
        responseHeaders = List.copyOf(responseHeaders);
        proxySetHeaders = Map.copyOf(proxySetHeaders);
        cacheValidity = Map.copyOf(cacheValidity);
        Objects.requireNonNull(keepaliveTimeout, "keepaliveTimeout");
    }
}
