package dev.sluice.gateway.proxy;

import dev.sluice.gateway.request.Endpoint;
import dev.sluice.gateway.route.ForwardedTrust;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The header rewriting between client and upstream, exactly as ingress-nginx's location block
 * does it (SPEC §8); described here with the default {@code use-forwarded-headers: false}, see
 * {@link #toUpstream(HttpHeaders, String, String, boolean, ForwardedTrust, String, String, String)}
 * for the ConfigMap's forwarding settings. {@link #toUpstream} is a pure function of its inputs;
 * {@link #toClient} edits the upstream response's headers in place.
 *
 * <p>Request, client → upstream:
 * <ul>
 *   <li>{@code Host}: the client's value verbatim (case and port kept).</li>
 *   <li>{@code X-Request-ID}: the client's, else a generated 32-hex-digit id.</li>
 *   <li>{@code X-Real-IP}, {@code X-Forwarded-For}: the client address; an incoming
 *       {@code X-Forwarded-For} is <em>replaced</em>, and moved to {@code X-Original-Forwarded-For}
 *       (all values joined with {@code ", "}).</li>
 *   <li>{@code X-Forwarded-Host}: the client's {@code Host}; an incoming one moves to
 *       {@code X-Original-Forwarded-Host}.</li>
 *   <li>{@code X-Forwarded-Port}: the port NGINX reports, 80 on the plain listener and 443 on the
 *       TLS listener, whatever Sluice actually binds (ingress-nginx reports its Service ports,
 *       which is what in-cluster clients used).</li>
 *   <li>{@code X-Forwarded-Proto}, {@code X-Forwarded-Scheme}, {@code X-Scheme}: {@code http} or
 *       {@code https}.</li>
 *   <li>{@code X-Forwarded-Prefix}: the route's value when a rewrite is active; otherwise a
 *       client's header passes unchanged (NGINX only sets it with the annotation).</li>
 *   <li>Removed: hop-by-hop headers ({@code Connection} and every header it names,
 *       {@code Keep-Alive}, {@code Proxy-Connection}, {@code TE}, {@code Trailer},
 *       {@code Upgrade}, {@code Transfer-Encoding} — the proxy regenerates the framing),
 *       {@code Expect} (the proxy answers {@code 100 Continue} itself), {@code Proxy}
 *       (httpoxy), and every header whose name contains {@code _} (NGINX's
 *       {@code underscores_in_headers off}).</li>
 *   <li>{@code Content-Length} and all other headers pass unchanged.</li>
 * </ul>
 *
 * <p>Response, upstream → client: {@code Server} and the hop-by-hop headers are removed; the
 * caller adds {@code Connection} and the framing for the client connection.
 */
public final class ForwardedHeaders {
    public static final AsciiString X_REQUEST_ID = AsciiString.cached("X-Request-ID");
    public static final AsciiString X_REAL_IP = AsciiString.cached("X-Real-IP");
    public static final AsciiString X_FORWARDED_FOR = AsciiString.cached("X-Forwarded-For");
    public static final AsciiString X_ORIGINAL_FORWARDED_FOR = AsciiString.cached("X-Original-Forwarded-For");
    public static final AsciiString X_FORWARDED_HOST = AsciiString.cached("X-Forwarded-Host");
    public static final AsciiString X_ORIGINAL_FORWARDED_HOST = AsciiString.cached("X-Original-Forwarded-Host");
    public static final AsciiString X_FORWARDED_PORT = AsciiString.cached("X-Forwarded-Port");
    public static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("X-Forwarded-Proto");
    public static final AsciiString X_FORWARDED_SCHEME = AsciiString.cached("X-Forwarded-Scheme");
    public static final AsciiString X_SCHEME = AsciiString.cached("X-Scheme");
    public static final AsciiString X_FORWARDED_PREFIX = AsciiString.cached("X-Forwarded-Prefix");
    public static final AsciiString PROXY = AsciiString.cached("Proxy");

    // not taken from HttpHeaderNames, where they are deprecated (they are not HTTP/2 headers)
    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");

    private static final AsciiString PORT_80 = AsciiString.cached("80");
    private static final AsciiString PORT_443 = AsciiString.cached("443");
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");

    /** Hop-by-hop headers, never forwarded in either direction. */
    private static final AsciiString[] HOP_BY_HOP = {
        HttpHeaderNames.CONNECTION, KEEP_ALIVE, PROXY_CONNECTION,
        HttpHeaderNames.TE, HttpHeaderNames.TRAILER, HttpHeaderNames.UPGRADE, HttpHeaderNames.TRANSFER_ENCODING,
    };

    /** Client headers the proxy drops or sets itself (besides hop-by-hop ones). */
    private static final AsciiString[] REPLACED_IN_REQUEST = {
        HttpHeaderNames.HOST, HttpHeaderNames.EXPECT, PROXY, X_REQUEST_ID, X_REAL_IP, X_FORWARDED_FOR,
        X_ORIGINAL_FORWARDED_FOR, X_FORWARDED_HOST, X_ORIGINAL_FORWARDED_HOST, X_FORWARDED_PORT,
        X_FORWARDED_PROTO, X_FORWARDED_SCHEME, X_SCHEME,
    };

    private ForwardedHeaders() {}

    /**
     * The headers of the upstream request.
     *
     * @param client          the client's request headers (not modified)
     * @param clientIp        the client address ({@code $remote_addr})
     * @param https           whether the request came in on the TLS listener
     * @param forwardedPrefix {@code X-Forwarded-Prefix} to set, or {@code null}
     * @param requestId       the request id (see {@link #requestId(HttpHeaders)})
     * @param endpoint        the upstream: its {@code address:port} is the {@code Host} sent when the
     *                        client sent none (HTTP/1.0); only then is that text made
     */
    public static HttpHeaders toUpstream(HttpHeaders client, String clientIp, boolean https,
            String forwardedPrefix, CharSequence requestId, Endpoint endpoint) {
        return toUpstream(client, clientIp, clientIp, https, ForwardedTrust.NONE, forwardedPrefix, requestId,
                endpoint);
    }

    /**
     * The headers of the upstream request under the global ConfigMap's forwarding settings
     * (SPEC §8): with {@code use-forwarded-headers} the first {@code X-Forwarded-Host} value
     * becomes {@code Host} and {@code X-Forwarded-Host}, and a client's {@code X-Forwarded-Proto}
     * / {@code -Port} are passed on instead of the proxy's; with {@code compute-full-forwarded-for}
     * {@code X-Forwarded-For} is the incoming list followed by the peer address.
     *
     * @param clientIp the client address after the real-IP rules ({@code $remote_addr})
     * @param peerIp   the connection's address ({@code $realip_remote_addr})
     * @param trust    which client headers are believed
     */
    public static HttpHeaders toUpstream(HttpHeaders client, String clientIp, String peerIp, boolean https,
            ForwardedTrust trust, String forwardedPrefix, CharSequence requestId, Endpoint endpoint) {
        List<CharSequence> connectionTokens = connectionTokens(client);
        String host = client.get(HttpHeaderNames.HOST);
        String incomingXff = joined(client, X_FORWARDED_FOR);
        String incomingXfh = joined(client, X_FORWARDED_HOST);
        CharSequence port = https ? PORT_443 : PORT_80;
        CharSequence scheme = https ? HTTPS : HTTP;
        if (trust.useForwardedHeaders()) {
            String forwardedHost = firstValue(incomingXfh);
            if (forwardedHost != null) {
                host = forwardedHost;
            }
            String forwardedPort = client.get(X_FORWARDED_PORT);
            if (forwardedPort != null && !forwardedPort.isEmpty()) {
                port = forwardedPort;
            }
            String forwardedProto = client.get(X_FORWARDED_PROTO);
            if (forwardedProto != null && !forwardedProto.isEmpty()) {
                scheme = forwardedProto;
            }
        }
        String forwardedFor = clientIp;
        if (trust.computeFullForwardedFor()) {
            forwardedFor = incomingXff != null ? incomingXff + ", " + peerIp : peerIp;
        }

        // room for the proxy's own headers and the client's (whose Host is replaced: one to spare)
        int own = 9 + (incomingXff != null ? 1 : 0) + (incomingXfh != null ? 1 : 0) + (forwardedPrefix != null ? 1 : 0);
        HttpHeaders out = FlatHttpHeaders.unvalidated(own + client.size());
        out.add(HttpHeaderNames.HOST, host != null ? host : endpoint.toString());
        out.add(X_REQUEST_ID, requestId);
        out.add(X_REAL_IP, clientIp);
        out.add(X_FORWARDED_FOR, forwardedFor);
        if (host != null) {
            out.add(X_FORWARDED_HOST, host);
        }
        out.add(X_FORWARDED_PORT, port);
        out.add(X_FORWARDED_PROTO, scheme);
        out.add(X_FORWARDED_SCHEME, scheme);
        out.add(X_SCHEME, scheme);
        if (incomingXff != null) {
            out.add(X_ORIGINAL_FORWARDED_FOR, incomingXff);
        }
        if (incomingXfh != null) {
            out.add(X_ORIGINAL_FORWARDED_HOST, incomingXfh);
        }
        if (forwardedPrefix != null) {
            out.add(X_FORWARDED_PREFIX, forwardedPrefix);
        }
        Iterator<Map.Entry<CharSequence, CharSequence>> it = client.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> h = it.next();
            CharSequence name = h.getKey();
            if (hasUnderscore(name)
                    || isOneOf(name, HOP_BY_HOP)
                    || isOneOf(name, REPLACED_IN_REQUEST)
                    || (forwardedPrefix != null && AsciiString.contentEqualsIgnoreCase(name, X_FORWARDED_PREFIX))
                    || isOneOf(name, connectionTokens)) {
                continue;
            }
            out.add(name, h.getValue());
        }
        return out;
    }

    /**
     * The headers of the response to the client: the upstream's without {@code Server} and the
     * hop-by-hop headers, removed in place (the upstream response's headers object is forwarded
     * rather than copied, which saves a headers object and an entry per header on every
     * response). Returns {@code upstream}. The caller adds {@code Connection} and the framing.
     */
    public static HttpHeaders toClient(HttpHeaders upstream) {
        List<CharSequence> connectionTokens = connectionTokens(upstream); // before Connection goes
        upstream.remove(HttpHeaderNames.SERVER);
        for (AsciiString name : HOP_BY_HOP) {
            upstream.remove(name);
        }
        for (int i = 0, n = connectionTokens.size(); i < n; i++) {
            upstream.remove(connectionTokens.get(i));
        }
        return upstream;
    }

    /** The client's {@code X-Request-ID} if it sent a non-empty one, else a new id. */
    public static CharSequence requestId(HttpHeaders client) {
        String id = client.get(X_REQUEST_ID);
        return id != null && !id.isEmpty() ? id : newRequestId();
    }

    /** A random 32-hex-digit id, as NGINX's {@code $request_id}. */
    public static CharSequence newRequestId() {
        return RequestId.random();
    }

    /**
     * The scheme NGINX's {@code $pass_access_scheme} holds: the client's {@code X-Forwarded-Proto}
     * when {@code use-forwarded-headers} trusts it, else the listener's.
     */
    public static String scheme(HttpHeaders client, boolean https, ForwardedTrust trust) {
        if (trust.useForwardedHeaders()) {
            String proto = client.get(X_FORWARDED_PROTO);
            if (proto != null && !proto.isEmpty()) {
                return proto;
            }
        }
        return https ? "https" : "http";
    }

    /** The first comma-separated value, trimmed, or {@code null} when there is none. */
    static String firstValue(String list) {
        if (list == null) {
            return null;
        }
        int comma = list.indexOf(',');
        String first = (comma < 0 ? list : list.substring(0, comma)).trim();
        return first.isEmpty() ? null : first;
    }

    /** All values of a header joined with {@code ", "} (NGINX's {@code $http_*}), or {@code null}. */
    static String joined(HttpHeaders headers, CharSequence name) {
        if (!headers.contains(name)) {
            return null; // the usual case: no list allocated
        }
        List<String> all = headers.getAll(name);
        if (all.isEmpty()) {
            return null;
        }
        return all.size() == 1 ? all.get(0) : String.join(", ", all);
    }

    /** The header names listed in {@code Connection}, except {@code close}/{@code keep-alive}. */
    static List<CharSequence> connectionTokens(HttpHeaders headers) {
        if (!headers.contains(HttpHeaderNames.CONNECTION)) {
            return List.of();
        }
        List<String> values = headers.getAll(HttpHeaderNames.CONNECTION);
        if (values.isEmpty()) {
            return List.of();
        }
        List<CharSequence> tokens = new ArrayList<>(2);
        for (String v : values) {
            int start = 0;
            while (start <= v.length()) {
                int comma = v.indexOf(',', start);
                int end = comma < 0 ? v.length() : comma;
                String token = v.substring(start, end).trim();
                if (!token.isEmpty()) {
                    tokens.add(token);
                }
                start = end + 1;
            }
        }
        return tokens;
    }

    static boolean hasUnderscore(CharSequence name) {
        for (int i = 0, n = name.length(); i < n; i++) {
            if (name.charAt(i) == '_') {
                return true;
            }
        }
        return false;
    }

    static boolean isOneOf(CharSequence name, AsciiString[] names) {
        for (AsciiString candidate : names) {
            if (candidate.length() == name.length() && candidate.contentEqualsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }

    static boolean isOneOf(CharSequence name, List<CharSequence> names) {
        for (int i = 0, n = names.size(); i < n; i++) {
            if (AsciiString.contentEqualsIgnoreCase(name, names.get(i))) {
                return true;
            }
        }
        return false;
    }
}
