package dev.sluice.gateway.stream;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The PROXY protocol v1 line sent to an endpoint before the client's bytes
 * ({@code PROXY TCP4 <client> <server> <client port> <server port>\r\n}), as nginx's
 * {@code proxy_protocol on} in a stream server writes it.
 */
final class ProxyHeader {
    private ProxyHeader() {}

    /**
     * The header line for a connection from {@code client} to {@code server}; {@code PROXY UNKNOWN}
     * when either is not an IP socket address or the two are of different families (the v1 format
     * has no line for that).
     */
    static String v1(SocketAddress client, SocketAddress server) {
        if (client instanceof InetSocketAddress c && server instanceof InetSocketAddress s
                && c.getAddress() != null && s.getAddress() != null
                && (c.getAddress() instanceof Inet4Address) == (s.getAddress() instanceof Inet4Address)) {
            String family = c.getAddress() instanceof Inet4Address ? "TCP4" : "TCP6";
            return "PROXY " + family + " " + text(c.getAddress()) + " " + text(s.getAddress()) + " " + c.getPort()
                    + " " + s.getPort() + "\r\n";
        }
        return "PROXY UNKNOWN\r\n";
    }

    /** The address without a scope id, which the header's grammar does not allow. */
    private static String text(InetAddress a) {
        String t = a.getHostAddress();
        int scope = t.indexOf('%');
        return scope >= 0 ? t.substring(0, scope) : t;
    }
}
