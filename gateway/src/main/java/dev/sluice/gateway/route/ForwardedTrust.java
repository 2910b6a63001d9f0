package dev.sluice.gateway.route;

import dev.sluice.gateway.access.SourceRanges;
import java.util.Objects;

/**
 * How far the proxy believes the forwarding headers a client sends: ingress-nginx's ConfigMap keys
 * {@code use-forwarded-headers}, {@code enable-real-ip}, {@code forwarded-for-header},
 * {@code compute-full-forwarded-for} and {@code proxy-real-ip-cidr} (SPEC §8).
 *
 * <p>With {@link #realIp()} (either key) the client address becomes NGINX's real-IP module's
 * answer: if the connection comes from a trusted proxy ({@code proxy-real-ip-cidr}), the
 * {@code forwarded-for-header} list is walked from the right, skipping trusted addresses
 * (NGINX's {@code real_ip_recursive on}); the first untrusted one, or the left-most, is the client.
 * That address is then used for {@code X-Real-IP}, {@code X-Forwarded-For}, source lists, limits
 * and the access log. {@link #useForwardedHeaders()} also trusts {@code X-Forwarded-Host},
 * {@code -Proto} and {@code -Port}.
 *
 * @param useForwardedHeaders     {@code use-forwarded-headers} (default false)
 * @param enableRealIp            {@code enable-real-ip} (default false): only the client address
 * @param forwardedForHeader      {@code forwarded-for-header} (default {@code X-Forwarded-For})
 * @param computeFullForwardedFor {@code compute-full-forwarded-for} (default false): the upstream's
 *                                {@code X-Forwarded-For} is the incoming list plus the peer address
 *                                instead of the client address alone
 * @param trustedProxies          {@code proxy-real-ip-cidr} (default {@code 0.0.0.0/0})
 */
public record ForwardedTrust(boolean useForwardedHeaders, boolean enableRealIp, String forwardedForHeader,
        boolean computeFullForwardedFor, SourceRanges trustedProxies) {

    public static final String DEFAULT_FORWARDED_FOR_HEADER = "X-Forwarded-For";
    public static final SourceRanges DEFAULT_TRUSTED_PROXIES = SourceRanges.parse("0.0.0.0/0");

    /** ingress-nginx's defaults: nothing a client sends is believed. */
    public static final ForwardedTrust NONE =
            new ForwardedTrust(false, false, DEFAULT_FORWARDED_FOR_HEADER, false, DEFAULT_TRUSTED_PROXIES);

    public ForwardedTrust {
        Objects.requireNonNull(forwardedForHeader, "forwardedForHeader");
        Objects.requireNonNull(trustedProxies, "trustedProxies");
    }

    /** Whether the client address is taken from {@link #forwardedForHeader()}. */
    public boolean realIp() {
        return useForwardedHeaders || enableRealIp;
    }

    /**
     * The client address as NGINX's real-IP module computes it.
     *
     * @param peer        the connection's address (after a PROXY protocol header, if any)
     * @param peerIp      the same as text
     * @param headerValue every value of {@link #forwardedForHeader()} joined with {@code ,}, or
     *                    {@code null}
     * @return the client address as text; {@code peerIp} when nothing is believed
     */
    public String clientIp(byte[] peer, String peerIp, String headerValue) {
        if (!realIp() || headerValue == null || !trustedProxies.contains(peer)) {
            return peerIp;
        }
        String result = peerIp;
        int end = headerValue.length();
        while (end >= 0) {
            int comma = headerValue.lastIndexOf(',', end - 1);
            String entry = headerValue.substring(comma + 1, end).trim();
            end = comma;
            if (entry.isEmpty()) {
                if (comma < 0) {
                    break;
                }
                continue;
            }
            byte[] address = SourceRanges.literal(entry);
            if (address == null) {
                return peerIp; // NGINX declines a list with a non-address: the peer stays the client
            }
            result = entry;
            if (!trustedProxies.contains(address) || comma < 0) {
                break;
            }
        }
        return result;
    }
}
