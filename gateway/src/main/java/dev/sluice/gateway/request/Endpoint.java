package dev.sluice.gateway.request;

import java.util.Objects;

/**
 * One upstream address a request can be proxied to: a ready Pod IP and the container port.
 *
 * @param address an IP literal (IPv4 or IPv6, no brackets) or a host name
 * @param port    TCP port, 1..65535
 */
public record Endpoint(String address, int port) {
    public Endpoint {
        Objects.requireNonNull(address, "address");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    public static Endpoint of(String address, int port) {
        return new Endpoint(address, port);
    }

    // Written out (instead of the record's generated methods): pools and balancers compare endpoints per request.
    @Override
    public boolean equals(Object o) {
        return this == o || (o instanceof Endpoint e && port == e.port && address.equals(e.address));
    }

    @Override
    public int hashCode() {
        return 31 * address.hashCode() + port;
    }

    @Override
    public String toString() {
        return address.indexOf(':') >= 0 ? "[" + address + "]:" + port : address + ":" + port;
    }
}
