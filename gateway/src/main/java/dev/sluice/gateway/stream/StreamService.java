package dev.sluice.gateway.stream;

import dev.sluice.gateway.request.Endpoint;
import java.util.List;
import java.util.Objects;

/**
 * One port that relays raw bytes (TCP) or datagrams (UDP) to the endpoints of one backend, as an
 * entry of ingress-nginx's {@code tcp-services} / {@code udp-services} ConfigMap describes it.
 *
 * @param protocol         TCP or UDP
 * @param port             the port Sluice listens on, 1..65535
 * @param backend          the backend's name, for logs, metrics and {@code /routes}
 * @param endpoints        the ready endpoints; empty keeps the port open but refuses the traffic
 *                         (TCP connections are closed at once, datagrams dropped)
 * @param proxyProtocolIn  decode a PROXY protocol (v1 or v2) header sent by the client first
 *                         (TCP only)
 * @param proxyProtocolOut send a PROXY protocol v1 header to the endpoint before the client's
 *                         bytes (TCP only)
 * @param source           where the entry comes from, e.g. {@code ingress-nginx/tcp-services key 9000}
 */
public record StreamService(StreamProtocol protocol, int port, String backend, List<Endpoint> endpoints,
        boolean proxyProtocolIn, boolean proxyProtocolOut, String source) {

    public StreamService {
        Objects.requireNonNull(protocol, "protocol");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        Objects.requireNonNull(backend, "backend");
        endpoints = List.copyOf(endpoints);
        Objects.requireNonNull(source, "source");
        if (protocol == StreamProtocol.UDP && (proxyProtocolIn || proxyProtocolOut)) {
            // the PROXY protocol frames a byte stream; a datagram has no place for its header
            throw new IllegalArgumentException("UDP services take no PROXY protocol flags");
        }
    }

    /** The listener this service runs on: protocol and port. */
    public Key key() {
        return new Key(protocol, port);
    }

    /** A listener's identity: at most one service per protocol and port. */
    public record Key(StreamProtocol protocol, int port) {
        @Override
        public String toString() {
            return protocol + "/" + port;
        }
    }
}
