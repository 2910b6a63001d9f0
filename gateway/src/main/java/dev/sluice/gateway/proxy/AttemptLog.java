package dev.sluice.gateway.proxy;

import dev.sluice.gateway.observe.AccessLog;
import dev.sluice.gateway.request.Endpoint;

/**
 * The upstream attempts of one request as the access log shows them: NGINX's
 * {@code $upstream_addr}, {@code $upstream_status} and {@code $upstream_response_time}, one
 * entry per attempt joined by {@code ", "} (for example {@code "10.0.0.1:80, 10.0.0.2:80"},
 * {@code "502, 200"}, {@code "0.001, 0.004"}).
 *
 * <p>Only the access log reads these strings, so an exchange creates this only while the
 * access log is on, at the end of its first attempt.
 */
final class AttemptLog {
    private final StringBuilder addresses = new StringBuilder(24);
    private final StringBuilder statuses = new StringBuilder(8);
    private final StringBuilder times = new StringBuilder(8);

    /** Adds an ended attempt: where it went, the status it counts as, and how long it took. */
    void add(Endpoint endpoint, int status, long tookNanos) {
        if (addresses.length() > 0) {
            addresses.append(", ");
            statuses.append(", ");
            times.append(", ");
        }
        addresses.append(endpoint);
        statuses.append(status);
        times.append(AccessLog.seconds(tookNanos));
    }

    /** {@code upstream_addr}. */
    String addresses() {
        return addresses.toString();
    }

    /** {@code upstream_status}. */
    String statuses() {
        return statuses.toString();
    }

    /** {@code upstream_response_time}, in seconds with millisecond precision. */
    String responseTimes() {
        return times.toString();
    }
}
