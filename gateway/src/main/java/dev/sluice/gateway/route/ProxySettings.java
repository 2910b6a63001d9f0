package dev.sluice.gateway.route;

import dev.sluice.gateway.access.RequestBlocks;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The proxy-wide settings of ingress-nginx's global ConfigMap ({@code --configmap}) that the data
 * plane reads per request; published with the routes, so a ConfigMap change applies to the next
 * request without a restart. The per-location defaults the ConfigMap changes
 * ({@code proxy-read-timeout}, {@code ssl-redirect}, …) are already in each {@link RouteOptions}.
 *
 * @param forwarded        which client-sent forwarding headers are believed
 * @param hsts             the {@code Strict-Transport-Security} value sent on HTTPS responses
 *                         ({@code hsts*} keys), or {@code null} ({@code hsts: "false"})
 * @param httpRedirectCode {@code http-redirect-code}: status of the HTTPS and www redirects (308)
 * @param responseHeaders  {@code add-headers}: set on every response to the client
 * @param upstreamHeaders  {@code proxy-set-headers}: set on every request to an upstream
 * @param hiddenHeaders    {@code hide-headers}: upstream response headers not passed to clients
 *                         (lower case)
 * @param blocks           {@code block-cidrs}, {@code block-user-agents}, {@code block-referers}
 * @param listener         the client connection settings ({@code use-proxy-protocol},
 *                         {@code keep-alive}, {@code client-body-timeout},
 *                         {@code large-client-header-buffers}, {@code keep-alive-requests})
 */
public record ProxySettings(
        ForwardedTrust forwarded,
        String hsts,
        int httpRedirectCode,
        Map<String, String> responseHeaders,
        Map<String, String> upstreamHeaders,
        List<String> hiddenHeaders,
        RequestBlocks blocks,
        ListenerSettings listener) {

    /** ingress-nginx's HSTS defaults: one year, subdomains, no preload (SPEC §10.3). */
    public static final String DEFAULT_HSTS = "max-age=31536000; includeSubDomains";
    public static final int DEFAULT_HTTP_REDIRECT_CODE = 308;

    /** Without a ConfigMap: ingress-nginx's defaults. */
    public static final ProxySettings DEFAULTS = new ProxySettings(ForwardedTrust.NONE, DEFAULT_HSTS,
            DEFAULT_HTTP_REDIRECT_CODE, Map.of(), Map.of(), List.of(), RequestBlocks.NONE, ListenerSettings.DEFAULTS);

    public ProxySettings {
        Objects.requireNonNull(forwarded, "forwarded");
        Objects.requireNonNull(blocks, "blocks");
        responseHeaders = Collections.unmodifiableMap(new LinkedHashMap<>(responseHeaders));
        upstreamHeaders = Collections.unmodifiableMap(new LinkedHashMap<>(upstreamHeaders));
        hiddenHeaders = List.copyOf(hiddenHeaders);
        Objects.requireNonNull(listener, "listener");
        if (httpRedirectCode < 300 || httpRedirectCode > 308) {
            throw new IllegalArgumentException("httpRedirectCode must be 3xx");
        }
    }
}
