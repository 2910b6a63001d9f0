package dev.sluice.gateway.proxy;

/**
 * Why an upstream attempt ended before its response was complete: the input of
 * {@link RetryPolicy} and the status an attempt is logged with.
 */
enum UpstreamFailure {
    /** The connection could not be opened (refused, unreachable, connect timeout): nothing was sent. */
    CONNECT,
    /** Writing the request failed. */
    WRITE,
    /** The upstream closed the connection before the response ended. */
    CLOSED,
    /** The response could not be decoded. */
    BAD_RESPONSE,
    /** No response byte within {@code proxy-read-timeout}. */
    READ_TIMEOUT,
    /** A write did not complete within {@code proxy-send-timeout}. */
    SEND_TIMEOUT,
    /**
     * The gRPC call's {@code grpc-timeout} passed (whatever the attempt was doing then, connecting
     * included): the client has given up, so nothing is tried again.
     */
    CALL_DEADLINE;

    /** Whether a deadline passed, as opposed to an error. */
    boolean timeout() {
        return this == READ_TIMEOUT || this == SEND_TIMEOUT || this == CALL_DEADLINE;
    }

    /** Whether some of the request may have reached the upstream: every failure after the connect. */
    boolean afterConnect() {
        return this != CONNECT;
    }

    /** The status of the attempt, and of the answer when it is not retried: 504 for a timeout, else 502. */
    int status() {
        return timeout() ? 504 : 502;
    }
}
