package dev.sluice.gateway.request;


/**
 * The parts of one HTTP request that canary rules and load balancers look at, named after the
 * NGINX variables ingress-nginx reads ({@code $http_<name>}, {@code $cookie_<name>},
 * {@code $remote_addr}, {@code $request_uri}, {@code $host}, {@code $https}).
 *
 * <p>The data plane implements it over Netty's request ({@code proxy.NettyRequestView}); tests use
 * {@link SimpleRequestView}. Implementations are used by one thread for one request, so they may
 * cache lazily parsed values (cookies) without synchronisation.
 */
public interface RequestView {

    /**
     * The first value of a request header, or {@code null} when the header is absent. Header names
     * are case-insensitive; callers pass them in lower case ({@code "x-canary"}).
     */
    String header(String lowerCaseName);

    /**
     * The value of the named cookie (exact, case-sensitive name) from the {@code Cookie} header,
     * or {@code null}. When a name occurs twice, the first occurrence wins, as with NGINX's
     * {@code $cookie_<name>}.
     */
    String cookie(String name);

    /** The client IP address as text without port, like {@code $remote_addr} ({@code "10.0.0.7"}, {@code "::1"}). */
    String remoteAddress();

    /** The raw request-target as received, path and query, not decoded: {@code $request_uri}. */
    String requestUri();

    /** The request host in lower case without port or trailing dot, like {@code $host}; {@code ""} if none. */
    String host();

    /** Whether the request arrived over TLS (NGINX {@code $https = "on"}). */
    boolean https();

    /** The request method as sent ({@code "GET"}, {@code "OPTIONS"}): {@code $request_method}. */
    String method();

    /** The {@code Content-Length} the request announced, or {@code -1} when it has none (chunked or no body). */
    long contentLength();
}
