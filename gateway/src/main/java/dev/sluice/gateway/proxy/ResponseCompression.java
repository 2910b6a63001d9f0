package dev.sluice.gateway.proxy;

import com.aayushatharva.brotli4j.encoder.Encoder;
import dev.sluice.gateway.route.CompressionPolicy;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.compression.Brotli;
import io.netty.handler.codec.compression.BrotliEncoder;
import io.netty.handler.codec.compression.ZlibCodecFactory;
import io.netty.handler.codec.compression.ZlibWrapper;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compresses one proxied response body as it streams (gzip or brotli, Netty's encoders), and
 * decides whether a response is compressed at all.
 *
 * <p>The decision follows NGINX's gzip and brotli filters as ingress-nginx configures them
 * ({@code gzip_proxied any}, {@code gzip_vary on}, {@code gzip_http_version 1.1}): only a 200, 403
 * or 404 answer to a non-{@code HEAD} request, without a {@code Content-Encoding}, of a listed type
 * and, when its length is known, at least the minimum length. Such a response is "eligible" and
 * gets {@code Vary: Accept-Encoding} whether or not this client accepts a coding. Unlike NGINX,
 * a response with {@code Cache-Control: no-transform} is never compressed (RFC 9111 §5.2.2.6).
 * Brotli wins when the client accepts both.
 *
 * <p>Each chunk is compressed and flushed on its own (zlib's sync flush, brotli's flush), so a
 * streamed response keeps streaming and the exchange's one-chunk-at-a-time back-pressure still
 * holds: nothing is aggregated. One instance per response, on the exchange's event loop.
 */
final class ResponseCompression {
    private static final Logger log = LoggerFactory.getLogger(ResponseCompression.class);

    /** What happens to one response. */
    enum Choice {
        /** Not a candidate: passes untouched. */
        NONE,
        /** A candidate the client takes uncompressed: only {@code Vary: Accept-Encoding} is added. */
        IDENTITY,
        GZIP,
        BROTLI
    }

    private static final boolean BROTLI_AVAILABLE = brotliAvailable();

    private final EmbeddedChannel encoder;

    private ResponseCompression(EmbeddedChannel encoder) {
        this.encoder = encoder;
    }

    private static boolean brotliAvailable() {
        try {
            if (Brotli.isAvailable()) {
                return true;
            }
            log.warn("brotli is not available on this platform ({}): enable-brotli is ignored, gzip still applies",
                    String.valueOf(Brotli.cause()));
        } catch (LinkageError e) {
            log.warn("brotli is not available on this platform ({}): enable-brotli is ignored", e.toString());
        }
        return false;
    }

    /** Whether the brotli native library loaded (otherwise {@code enable-brotli} is ignored). */
    static boolean brotliAvailable(CompressionPolicy policy) {
        return policy.brotli() && BROTLI_AVAILABLE;
    }

    /**
     * What to do with a response.
     *
     * @param policy         the table's compression settings
     * @param acceptEncoding the request's {@code Accept-Encoding} (may be {@code null})
     * @param head           whether the request is a {@code HEAD}
     * @param http11         whether the client speaks HTTP/1.1 or newer
     * @param status         the response status
     * @param response       the response headers as they go to the client
     */
    static Choice choose(CompressionPolicy policy, String acceptEncoding, boolean head, boolean http11, int status,
            HttpHeaders response) {
        if (!policy.enabled() || head || (status != 200 && status != 403 && status != 404)) {
            return Choice.NONE;
        }
        String encoding = response.get(HttpHeaderNames.CONTENT_ENCODING);
        if (encoding != null && !encoding.isEmpty()) {
            return Choice.NONE;
        }
        if (response.containsValue(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_TRANSFORM, true)) {
            return Choice.NONE;
        }
        String type = response.get(HttpHeaderNames.CONTENT_TYPE);
        long length = contentLength(response);
        boolean brotli = brotliAvailable(policy) && policy.brotliApplies(type, length);
        boolean gzip = policy.gzipApplies(type, length);
        if (!brotli && !gzip) {
            return Choice.NONE;
        }
        if (!http11) {
            return Choice.IDENTITY;
        }
        if (brotli && accepts(acceptEncoding, "br")) {
            return Choice.BROTLI;
        }
        if (gzip && (accepts(acceptEncoding, "gzip") || accepts(acceptEncoding, "x-gzip"))) {
            return Choice.GZIP;
        }
        return Choice.IDENTITY;
    }

    private static long contentLength(HttpHeaders headers) {
        String v = headers.get(HttpHeaderNames.CONTENT_LENGTH);
        if (v == null || headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            return -1;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Whether {@code Accept-Encoding} names {@code coding} with a q-value above 0. As NGINX, only
     * the coding's own name counts ({@code *} does not).
     */
    static boolean accepts(String acceptEncoding, String coding) {
        if (acceptEncoding == null) {
            return false;
        }
        int n = acceptEncoding.length();
        int start = 0;
        while (start < n) {
            int end = acceptEncoding.indexOf(',', start);
            if (end < 0) {
                end = n;
            }
            int semi = acceptEncoding.indexOf(';', start);
            int nameEnd = semi >= 0 && semi < end ? semi : end;
            String name = acceptEncoding.substring(start, nameEnd).trim();
            if (name.equalsIgnoreCase(coding)) {
                return nameEnd == end || qValue(acceptEncoding.substring(nameEnd + 1, end)) > 0;
            }
            start = end + 1;
        }
        return false;
    }

    /** The {@code q} of a coding's parameters ({@code 1} without one, {@code 0} when unreadable). */
    private static double qValue(String params) {
        for (String p : params.split(";")) {
            String t = p.trim();
            if (t.length() > 1 && (t.charAt(0) == 'q' || t.charAt(0) == 'Q') && t.substring(1).trim().startsWith("=")) {
                try {
                    double q = Double.parseDouble(t.substring(t.indexOf('=') + 1).trim());
                    return q >= 0 && q <= 1 ? q : 0;
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 1;
    }

    /**
     * Makes the response headers those of the compressed response: the coding, no length (the body
     * is chunked), a weak ETag (the bytes differ from the original's), no {@code Accept-Ranges}.
     */
    static void compressedHeaders(HttpHeaders headers, Choice choice) {
        headers.set(HttpHeaderNames.CONTENT_ENCODING, choice == Choice.BROTLI ? HttpHeaderValues.BR
                : HttpHeaderValues.GZIP);
        headers.remove(HttpHeaderNames.CONTENT_LENGTH);
        headers.remove(HttpHeaderNames.ACCEPT_RANGES);
        String etag = headers.get(HttpHeaderNames.ETAG);
        if (etag != null && etag.startsWith("\"")) {
            headers.set(HttpHeaderNames.ETAG, "W/" + etag);
        }
    }

    /** Adds {@code Vary: Accept-Encoding} unless the response already varies by it. */
    static void addVary(HttpHeaders headers) {
        for (String v : headers.getAll(HttpHeaderNames.VARY)) {
            for (String token : v.split(",")) {
                String t = token.trim();
                if (t.equals("*") || t.equalsIgnoreCase("accept-encoding")) {
                    return;
                }
            }
        }
        headers.add(HttpHeaderNames.VARY, "Accept-Encoding");
    }

    /** A compressor for a response the {@code choice} compresses ({@link Choice#GZIP} or {@link Choice#BROTLI}). */
    static ResponseCompression start(CompressionPolicy policy, Choice choice) {
        if (choice == Choice.BROTLI) {
            return new ResponseCompression(new EmbeddedChannel(new BrotliEncoder(
                    new Encoder.Parameters().setQuality(policy.brotliLevel()), false)));
        }
        return new ResponseCompression(new EmbeddedChannel(
                ZlibCodecFactory.newZlibEncoder(ZlibWrapper.GZIP, policy.gzipLevel())));
    }

    /**
     * The compressed form of a body chunk, or {@code null} when it yields no bytes yet; takes over
     * {@code chunk}.
     */
    HttpContent encode(HttpContent chunk) {
        ByteBuf in = chunk.content();
        if (!in.isReadable()) {
            chunk.release();
            return null;
        }
        encoder.writeOutbound(in); // the encoder releases the input
        ByteBuf out = drain();
        return out == null ? null : new DefaultHttpContent(out);
    }

    /**
     * The end of the compressed body: the last chunk's bytes, the coding's trailer and the
     * upstream's trailing headers; takes over {@code last}.
     */
    LastHttpContent finish(LastHttpContent last) {
        ByteBuf in = last.content();
        HttpHeaders trailers = last.trailingHeaders();
        if (in.isReadable()) {
            encoder.writeOutbound(in.retain());
        }
        last.release();
        encoder.finish(); // closing the encoder writes the gzip trailer / the last brotli block
        ByteBuf out = drain();
        return new DefaultLastHttpContent(out == null ? Unpooled.EMPTY_BUFFER : out, trailers);
    }

    /** Frees what the encoder holds (a response cut short). */
    void discard() {
        encoder.finishAndReleaseAll();
    }

    private ByteBuf drain() {
        ByteBuf first = null;
        CompositeByteBuf all = null;
        ByteBuf b;
        while ((b = encoder.readOutbound()) != null) {
            if (!b.isReadable()) {
                b.release();
            } else if (first == null) {
                first = b;
            } else {
                if (all == null) {
                    all = b.alloc().compositeBuffer();
                    all.addComponent(true, first);
                }
                all.addComponent(true, b);
            }
        }
        return all != null ? all : first;
    }
}
