package dev.sluice.gateway.proxy;

import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.ReadOnlyHttpHeaders;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The answer of an external auth service: its status and response headers, or {@link #FAILED}
 * (status 0) when no well-formed answer arrived in time.
 *
 * <p>The headers are copied into a read-only set, so a result can be cached and shared between
 * event loops.
 *
 * @param status  the response status, or 0 when the service was unreachable, the connection broke,
 *                the response was malformed or a timeout fired (NGINX then answers 500)
 * @param headers the response headers (empty for a failure)
 */
public record ExternalAuthResult(int status, HttpHeaders headers) {
    /** No usable answer. */
    public static final ExternalAuthResult FAILED = new ExternalAuthResult(0, EmptyHttpHeaders.INSTANCE);

    public ExternalAuthResult {
        if (status < 0 || status > 999) {
            throw new IllegalArgumentException("status out of range: " + status);
        }
        headers = readOnly(headers);
    }

    /** Whether the service answered at all (any status). */
    public boolean answered() {
        return status != 0;
    }

    /** Whether the service allowed the request: a 2xx answer. */
    public boolean allowed() {
        return status >= 200 && status < 300;
    }

    private static HttpHeaders readOnly(HttpHeaders headers) {
        if (headers == null || headers.isEmpty()) {
            return EmptyHttpHeaders.INSTANCE;
        }
        if (headers instanceof ReadOnlyHttpHeaders) {
            return headers;
        }
        List<CharSequence> pairs = new ArrayList<>(headers.size() * 2);
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> h = it.next();
            pairs.add(h.getKey());
            pairs.add(h.getValue());
        }
        return new ReadOnlyHttpHeaders(false, pairs.toArray(new CharSequence[0]));
    }
}
