package dev.sluice.gateway.proxy;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.concurrent.TimeUnit;

/**
 * What the proxy knows of gRPC: which requests are gRPC calls, their {@code grpc-timeout}, and
 * how a proxy error is told to a gRPC client — as a status in a "trailers-only" response (HTTP 200
 * with {@code grpc-status} and {@code grpc-message} in its only HEADERS frame), which gRPC
 * clients report as that status, instead of an HTML error page they can only guess from.
 *
 * <p>HTTP status to gRPC status as gRPC's own mapping ({@code doc/http-grpc-status-mapping.md})
 * except that a proxy timeout (504, 408) is {@code DEADLINE_EXCEEDED} (4): 400 → INTERNAL (13),
 * 401 → UNAUTHENTICATED (16), 403 → PERMISSION_DENIED (7), 404 → UNIMPLEMENTED (12), 413 →
 * RESOURCE_EXHAUSTED (8), 429, 502, 503 → UNAVAILABLE (14), anything else UNKNOWN (2).
 */
final class Grpc {
    static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
    static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");
    static final AsciiString APPLICATION_GRPC = AsciiString.cached("application/grpc");

    private Grpc() {}

    /** Whether a request with these headers is a gRPC call ({@code content-type: application/grpc…}). */
    static boolean isCall(HttpHeaders headers) {
        String type = headers.get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.regionMatches(true, 0, "application/grpc", 0, APPLICATION_GRPC.length());
    }

    /**
     * The call's deadline from its {@code grpc-timeout} header in nanoseconds, or {@code -1}
     * without a valid one (at most 8 digits and a unit: {@code H M S m u n}).
     */
    static long timeoutNanos(String value) {
        if (value == null || value.length() < 2 || value.length() > 9) {
            return -1;
        }
        long amount = 0;
        for (int i = 0; i < value.length() - 1; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            amount = amount * 10 + (c - '0');
        }
        return switch (value.charAt(value.length() - 1)) {
            case 'H' -> TimeUnit.HOURS.toNanos(amount);
            case 'M' -> TimeUnit.MINUTES.toNanos(amount);
            case 'S' -> TimeUnit.SECONDS.toNanos(amount);
            case 'm' -> TimeUnit.MILLISECONDS.toNanos(amount);
            case 'u' -> TimeUnit.MICROSECONDS.toNanos(amount);
            case 'n' -> amount;
            default -> -1;
        };
    }

    /** The gRPC status code for a proxy error with HTTP status {@code httpStatus}. */
    static int status(int httpStatus) {
        return switch (httpStatus) {
            case 400 -> 13;
            case 401 -> 16;
            case 403 -> 7;
            case 404 -> 12;
            case 408, 504 -> 4;
            case 413 -> 8;
            case 429, 502, 503 -> 14;
            default -> 2;
        };
    }

    /** A trailers-only response telling a gRPC client that the proxy failed with {@code httpStatus}. */
    static FullHttpResponse errorResponse(int httpStatus) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.EMPTY_BUFFER);
        r.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, APPLICATION_GRPC)
                .set(GRPC_STATUS, status(httpStatus))
                .set(GRPC_MESSAGE, message(httpStatus));
        return r;
    }

    /** The {@code grpc-message} (percent-encoding needs no escaping for these plain words). */
    private static String message(int httpStatus) {
        HttpResponseStatus s = HttpResponseStatus.valueOf(httpStatus);
        return ("proxy: " + httpStatus + " " + s.reasonPhrase()).replace("%", "%25");
    }
}
