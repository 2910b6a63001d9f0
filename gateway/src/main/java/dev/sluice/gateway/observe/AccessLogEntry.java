package dev.sluice.gateway.observe;

/**
 * One finished request, as the data plane hands it to the {@link AccessLog}. Built on the event
 * loop (plain field copies, no formatting); turned into JSON on the log's writer thread.
 *
 * @param epochMillis          when the request started (wall clock)
 * @param remoteAddr           client IP
 * @param method               request method
 * @param uri                  request-target as received
 * @param host                 {@code Host} header as received, or {@code ""}
 * @param status               status sent to the client; 499 when the client went away first
 * @param bytesSent            response body bytes written to the client
 * @param requestTimeNanos     from the request head to the last response byte
 * @param upstreamAddr         the endpoints tried, {@code ", "}-separated as NGINX logs them, or {@code null}
 * @param upstreamStatus       their statuses, {@code ", "}-separated, or {@code null}
 * @param upstreamResponseTime their response times in seconds, {@code ", "}-separated, or {@code null}
 * @param requestId            the {@code X-Request-ID} sent upstream (or generated)
 * @param ingress              {@code namespace/name} of the Ingress whose path matched, or {@code null}
 * @param service              backend name {@code <ns>-<svc>-<port>}, or {@code null}
 * @param canary               whether the canary backend served the request
 */
public record AccessLogEntry(
        long epochMillis,
        String remoteAddr,
        String method,
        String uri,
        String host,
        int status,
        long bytesSent,
        long requestTimeNanos,
        String upstreamAddr,
        String upstreamStatus,
        String upstreamResponseTime,
        String requestId,
        String ingress,
        String service,
        boolean canary) {}
