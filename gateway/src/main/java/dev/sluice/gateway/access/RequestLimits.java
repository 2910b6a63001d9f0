package dev.sluice.gateway.access;

import java.util.Objects;

/**
 * The {@code limit-*} annotations of one Ingress: NGINX's {@code limit_conn}, {@code limit_req}
 * and {@code limit_rate} as ingress-nginx renders them (SPEC §7).
 *
 * <p>Counting is per client address, per Sluice replica, per Ingress: every location of the
 * Ingress shares one {@code zone} ({@code namespace/name}), as ingress-nginx's zones do. Examples:
 * {@code limit-rps: "5"} lets a client through at 5 requests a second with a burst of 25
 * ({@code limit-burst-multiplier} 5, NGINX's {@code nodelay}: excess requests are rejected, not
 * queued); {@code limit-connections: "2"} rejects a client's third concurrent request. Clients in
 * {@code limit-allowlist} are not counted. A rejected request answers {@code rejectStatus}.
 *
 * @param zone         the counting scope, {@code namespace/name} of the Ingress
 * @param connections  {@code limit-connections}, or {@code 0} for none
 * @param rps          {@code limit-rps}, or {@code null}
 * @param rpm          {@code limit-rpm}, or {@code null}
 * @param exempt       {@code limit-allowlist} / {@code limit-whitelist}, or {@code null}
 * @param bandwidth    {@code limit-rate} / {@code limit-rate-after}, or {@code null}
 * @param rejectStatus status of a request over the rate limit (the global ConfigMap's
 *                     {@code limit-req-status-code}, default 503)
 * @param connectionRejectStatus status of a request over the connection limit
 *                     ({@code limit-conn-status-code}, default 503)
 */
public record RequestLimits(String zone, int connections, RateLimit rps, RateLimit rpm, SourceRanges exempt,
        BandwidthLimit bandwidth, int rejectStatus, int connectionRejectStatus) {

    /** ingress-nginx's {@code limit-req-status-code} and {@code limit-conn-status-code} default. */
    public static final int DEFAULT_REJECT_STATUS = 503;

    public RequestLimits {
        Objects.requireNonNull(zone, "zone");
        if (connections < 0) {
            throw new IllegalArgumentException("connections must be >= 0");
        }
        if (connections == 0 && rps == null && rpm == null && bandwidth == null) {
            throw new IllegalArgumentException("no limit configured");
        }
    }

    /** Limits whose rejections all answer {@code rejectStatus}. */
    public RequestLimits(String zone, int connections, RateLimit rps, RateLimit rpm, SourceRanges exempt,
            BandwidthLimit bandwidth, int rejectStatus) {
        this(zone, connections, rps, rpm, exempt, bandwidth, rejectStatus, rejectStatus);
    }

    /** Whether requests of {@code clientAddress} are counted (not in {@code limit-allowlist}). */
    public boolean counts(byte[] clientAddress) {
        return exempt == null || !exempt.contains(clientAddress);
    }
}
