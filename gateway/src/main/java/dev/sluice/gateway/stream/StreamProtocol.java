package dev.sluice.gateway.stream;

/** The transport of a stream service: a TCP listener relaying connections, or a UDP one relaying datagrams. */
public enum StreamProtocol {
    TCP,
    UDP
}
