package dev.sluice.gateway.proxy;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.AsciiString;
import java.net.URI;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The request headers of an external-auth subrequest ({@code auth-url}), built as ingress-nginx's
 * internal {@code location = /_external-auth-…} block builds them. A pure function.
 *
 * <p>That location has {@code proxy_pass_request_headers on}, so every client header is passed
 * except those NGINX replaces or clears:
 * <ul>
 *   <li>body framing: {@code Content-Length ""} (no body is sent), {@code Transfer-Encoding},
 *       {@code Expect};</li>
 *   <li>hop-by-hop: {@code Connection} (and the headers it names), {@code Keep-Alive},
 *       {@code Proxy-Connection}, {@code TE}, {@code Trailer}, {@code Upgrade}; the client of the
 *       subrequest sets its own {@code Connection};</li>
 *   <li>{@code Proxy} (httpoxy; NGINX clears it only in the main location, but it never names
 *       anything the auth service should see);</li>
 *   <li>{@code X-Forwarded-Proto ""}: the template clears it, so neither the client's value nor
 *       the scheme reaches the auth service;</li>
 *   <li>names containing {@code _}, which NGINX drops while parsing the client request
 *       ({@code underscores_in_headers off}).</li>
 * </ul>
 * and then sets {@code Host} (the auth URL's host name, without the port: ingress-nginx uses
 * Go's {@code url.Hostname()}), {@code X-Original-URL} ({@code $scheme://$http_host$request_uri}),
 * {@code X-Original-Method}, {@code X-Sent-From: nginx-ingress-controller}, {@code X-Real-IP},
 * {@code X-Forwarded-For} (the client address only), {@code X-Request-ID},
 * {@code X-Auth-Request-Redirect} ({@code auth-request-redirect}, else {@code $request_uri}), with
 * {@code auth-method} also {@code X-Original-URI} and {@code X-Scheme}, and last the
 * {@code auth-proxy-set-headers} entries. {@code X-Forwarded-Host} is the client's {@code Host}
 * ({@code $http_host}), never a value the client sent under that name: NGINX passes the client's
 * own {@code X-Forwarded-Host} to the auth service, which some services trust for redirects.
 */
public final class ExternalAuthHeaders {
    public static final AsciiString X_ORIGINAL_URL = AsciiString.cached("X-Original-URL");
    public static final AsciiString X_ORIGINAL_METHOD = AsciiString.cached("X-Original-Method");
    public static final AsciiString X_ORIGINAL_URI = AsciiString.cached("X-Original-URI");
    public static final AsciiString X_SENT_FROM = AsciiString.cached("X-Sent-From");
    public static final AsciiString X_AUTH_REQUEST_REDIRECT = AsciiString.cached("X-Auth-Request-Redirect");
    /** The value of {@code X-Sent-From}, which auth services use to recognise ingress-nginx. */
    public static final AsciiString SENT_FROM = AsciiString.cached("nginx-ingress-controller");

    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    private static final HttpHeadersFactory UNVALIDATED = DefaultHttpHeadersFactory.headersFactory().withValidation(false);

    /** Client headers never passed to the auth service (besides the ones set below). */
    private static final AsciiString[] DROPPED = {
        HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.EXPECT,
        HttpHeaderNames.CONNECTION, KEEP_ALIVE, PROXY_CONNECTION, HttpHeaderNames.TE, HttpHeaderNames.TRAILER,
        HttpHeaderNames.UPGRADE, ForwardedHeaders.PROXY, ForwardedHeaders.X_FORWARDED_PROTO,
        HttpHeaderNames.HOST, X_ORIGINAL_URL, X_ORIGINAL_METHOD, X_SENT_FROM, ForwardedHeaders.X_REAL_IP,
        ForwardedHeaders.X_FORWARDED_FOR, ForwardedHeaders.X_REQUEST_ID, X_AUTH_REQUEST_REDIRECT,
        ForwardedHeaders.X_FORWARDED_HOST,
    };

    /** Set only with {@code auth-method}, so a client's value passes otherwise. */
    private static final AsciiString[] DROPPED_WITH_AUTH_METHOD = {X_ORIGINAL_URI, ForwardedHeaders.X_SCHEME};

    private ExternalAuthHeaders() {}

    /**
     * The subrequest headers without {@code auth-method} (an NGINX subrequest is then a {@code GET},
     * whatever the client's method).
     *
     * @see #subrequest(HttpHeaders, String, String, String, String, String, String, URI, String, String, Map)
     */
    public static HttpHeaders subrequest(HttpHeaders client, String scheme, String hostHeader, String requestUri,
            String method, String clientIp, String requestId, URI authUrl, String authRequestRedirect,
            Map<String, String> extraHeaders) {
        return subrequest(client, scheme, hostHeader, requestUri, method, clientIp, requestId, authUrl, null,
                authRequestRedirect, extraHeaders);
    }

    /**
     * The subrequest headers.
     *
     * @param client              the client's request headers (not modified)
     * @param scheme              {@code http} or {@code https}: how the client connected ({@code $scheme})
     * @param hostHeader          the client's {@code Host} header verbatim ({@code $http_host}), or
     *                            {@code null} when it sent none
     * @param requestUri          the raw request target with its query ({@code $request_uri})
     * @param method              the client's method ({@code $request_method})
     * @param clientIp            the client address ({@code $remote_addr})
     * @param requestId           the request id ({@code $req_id}, see {@link ForwardedHeaders#requestId})
     * @param authUrl             the {@code auth-url}
     * @param authMethod          the {@code auth-method} annotation, or {@code null} when unset; when
     *                            set, {@code X-Original-URI} and {@code X-Scheme} are added too
     * @param authRequestRedirect the {@code auth-request-redirect} annotation, or {@code null}
     * @param extraHeaders        the {@code auth-proxy-set-headers} entries, set last (replacing
     *                            any header of the same name; an empty value removes it, as
     *                            {@code proxy_set_header Name ""} does)
     */
    public static HttpHeaders subrequest(HttpHeaders client, String scheme, String hostHeader, String requestUri,
            String method, String clientIp, String requestId, URI authUrl, String authMethod,
            String authRequestRedirect, Map<String, String> extraHeaders) {
        List<CharSequence> connectionTokens = ForwardedHeaders.connectionTokens(client);
        boolean withAuthMethod = authMethod != null && !authMethod.isEmpty();
        String httpHost = hostHeader != null ? hostHeader : "";

        HttpHeaders out = UNVALIDATED.newHeaders();
        Iterator<Map.Entry<CharSequence, CharSequence>> it = client.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> h = it.next();
            CharSequence name = h.getKey();
            if (ForwardedHeaders.hasUnderscore(name)
                    || ForwardedHeaders.isOneOf(name, DROPPED)
                    || (withAuthMethod && ForwardedHeaders.isOneOf(name, DROPPED_WITH_AUTH_METHOD))
                    || ForwardedHeaders.isOneOf(name, connectionTokens)) {
                continue;
            }
            out.add(name, h.getValue());
        }
        out.set(ForwardedHeaders.X_REQUEST_ID, requestId);
        if (withAuthMethod) {
            out.set(X_ORIGINAL_URI, requestUri);
            out.set(ForwardedHeaders.X_SCHEME, scheme);
        }
        out.set(HttpHeaderNames.HOST, authUrl.getHost());
        out.set(X_ORIGINAL_URL, scheme + "://" + httpHost + requestUri);
        if (!httpHost.isEmpty()) {
            out.set(ForwardedHeaders.X_FORWARDED_HOST, httpHost);
        }
        out.set(X_ORIGINAL_METHOD, method);
        out.set(X_SENT_FROM, SENT_FROM);
        out.set(ForwardedHeaders.X_REAL_IP, clientIp);
        out.set(ForwardedHeaders.X_FORWARDED_FOR, clientIp);
        out.set(X_AUTH_REQUEST_REDIRECT,
                authRequestRedirect != null && !authRequestRedirect.isEmpty() ? authRequestRedirect : requestUri);
        if (extraHeaders != null) {
            for (Map.Entry<String, String> e : extraHeaders.entrySet()) {
                if (e.getValue() == null || e.getValue().isEmpty()) {
                    out.remove(e.getKey());
                } else {
                    out.set(e.getKey(), e.getValue());
                }
            }
        }
        return out;
    }
}
