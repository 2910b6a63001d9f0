package dev.sluice.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The HTTP/1.1 codec of an upstream connection: what Netty's {@code HttpClientCodec(config, false,
 * false)} does, with a response decoder that does not allocate what every response repeats.
 *
 * <p>Netty's request decoder already hands out shared constants for the common method, version
 * and header names; its response decoder makes a new {@code String} for {@code HTTP/1.1}, for the
 * status code and for the reason phrase, and a new {@code AsciiString} for every header name, on
 * every response. Here the status line's words and the common response header names, spelled
 * exactly as received (for example {@code Content-Type} and {@code content-type}, but not
 * {@code CONTENT-TYPE}), are shared constants; anything else is decoded as Netty does. Header
 * values are still Netty's own strings.
 *
 * <p>As {@code HttpClientCodec}, the decoder reads no body after a {@code HEAD} request (it
 * remembers the method of every request sent whose response is still to come), and after a
 * {@code 200} answer to {@code CONNECT} it passes the connection's bytes on undecoded.
 */
final class UpstreamHttpCodec extends CombinedChannelDuplexHandler<HttpResponseDecoder, HttpRequestEncoder> {
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(4);
    private boolean tunnel; // a CONNECT was answered 200: the rest is not HTTP
    /** The response being decoded is chunked: only a chunked body can end with a trailer section. */
    private boolean chunked;

    UpstreamHttpCodec(HttpDecoderConfig config) {
        HttpHeadersFactory trailers = config.getTrailersFactory();
        init(new Decoder(config.clone().setTrailersFactory(new ChunkedTrailers(trailers))), new Encoder());
    }

    /**
     * Trailers for the end of a body: a fresh headers object for a chunked body, which may carry a
     * trailer section, and the shared read-only {@link FlatHttpHeaders#EMPTY} for a body framed by
     * its length.
     * Netty's decoder gives every length-framed body end a new trailers object nobody adds to.
     */
    private final class ChunkedTrailers implements HttpHeadersFactory {
        private final HttpHeadersFactory fresh;

        ChunkedTrailers(HttpHeadersFactory fresh) {
            this.fresh = fresh;
        }

        @Override
        public HttpHeaders newHeaders() {
            return chunked ? fresh.newHeaders() : FlatHttpHeaders.EMPTY;
        }

        @Override
        public HttpHeaders newEmptyHeaders() {
            return chunked ? fresh.newEmptyHeaders() : FlatHttpHeaders.EMPTY;
        }
    }

    private final class Encoder extends HttpRequestEncoder {
        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
            if (msg instanceof HttpRequest r) {
                methods.add(r.method());
            }
            super.encode(ctx, msg, out);
        }

        @Override
        protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
            if (headers instanceof FlatHttpHeaders flat) {
                flat.encodeTo(buf);
            } else {
                super.encodeHeaders(headers, buf);
            }
        }
    }

    private final class Decoder extends HttpResponseDecoder {
        private int lastStatus; // the status code of the line being split, for its reason phrase

        Decoder(HttpDecoderConfig config) {
            super(config);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            if (tunnel) {
                int readable = actualReadableBytes();
                if (readable > 0) {
                    out.add(in.readBytes(readable));
                }
                return;
            }
            super.decode(ctx, in, out);
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpMessage msg) {
            // asked once the head's headers are all read, before its body is
            chunked = HttpUtil.isTransferEncodingChunked(msg);
            HttpResponseStatus status = ((HttpResponse) msg).status();
            if (status.codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(msg); // not paired with a request
            }
            HttpMethod method = methods.poll(); // null if the upstream answered more than was asked
            if (HttpMethod.HEAD.equals(method)) {
                return true;
            }
            if (HttpMethod.CONNECT.equals(method) && status.code() == 200) {
                tunnel = true;
                methods.clear();
                return true;
            }
            return super.isContentAlwaysEmpty(msg);
        }

        @Override
        protected String splitFirstWordInitialLine(byte[] line, int start, int length) {
            if (matches(line, start, length, HTTP_1_1)) {
                return HTTP_1_1_TEXT;
            }
            if (matches(line, start, length, HTTP_1_0)) {
                return HTTP_1_0_TEXT;
            }
            return super.splitFirstWordInitialLine(line, start, length);
        }

        @Override
        protected String splitSecondWordInitialLine(byte[] line, int start, int length) {
            lastStatus = 0;
            if (length == 3) {
                int code = digit(line[start]) * 100 + digit(line[start + 1]) * 10 + digit(line[start + 2]);
                if (code >= 100 && code < STATUS_TEXT.length) {
                    lastStatus = code;
                    return STATUS_TEXT[code];
                }
            }
            return super.splitSecondWordInitialLine(line, start, length);
        }

        @Override
        protected String splitThirdWordInitialLine(byte[] line, int start, int length) {
            if (lastStatus != 0) {
                String standard = HttpResponseStatus.valueOf(lastStatus).reasonPhrase();
                if (matches(line, start, length, standard)) {
                    return standard;
                }
            }
            return super.splitThirdWordInitialLine(line, start, length);
        }

        @Override
        protected AsciiString splitHeaderName(byte[] line, int start, int length) {
            if (length < NAMES_BY_LENGTH.length) {
                for (AsciiString name : NAMES_BY_LENGTH[length]) {
                    if (Arrays.equals(line, start, start + length, name.array(), name.arrayOffset(),
                            name.arrayOffset() + length)) {
                        return name;
                    }
                }
            }
            return super.splitHeaderName(line, start, length);
        }
    }

    private static final String HTTP_1_1_TEXT = HttpVersion.HTTP_1_1.text();
    private static final String HTTP_1_0_TEXT = HttpVersion.HTTP_1_0.text();
    private static final byte[] HTTP_1_1 = HTTP_1_1_TEXT.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTP_1_0 = HTTP_1_0_TEXT.getBytes(StandardCharsets.US_ASCII);

    /** "100" to "599"; a status outside is decoded as Netty does. */
    private static final String[] STATUS_TEXT = new String[600];

    static {
        for (int code = 100; code < STATUS_TEXT.length; code++) {
            STATUS_TEXT[code] = Integer.toString(code);
        }
    }

    /** The response header names most upstreams send, as NGINX, Netty and most frameworks spell them. */
    private static final AsciiString[][] NAMES_BY_LENGTH = namesByLength(
            "Server", "Date", "Content-Type", "Content-Length", "Connection", "Last-Modified", "ETag",
            "Accept-Ranges", "Cache-Control", "Transfer-Encoding", "Vary", "Keep-Alive", "Location",
            "Set-Cookie", "Expires", "Content-Encoding", "X-Content-Type-Options", "Strict-Transport-Security",
            "Access-Control-Allow-Origin", "Pragma", "Age", "Content-Language", "X-Frame-Options");

    private static AsciiString[][] namesByLength(String... canonical) {
        int longest = Arrays.stream(canonical).mapToInt(String::length).max().orElse(0);
        List<List<AsciiString>> byLength = new ArrayList<>();
        for (int i = 0; i <= longest; i++) {
            byLength.add(new ArrayList<>());
        }
        for (String name : canonical) {
            byLength.get(name.length()).add(AsciiString.cached(name));
            byLength.get(name.length()).add(AsciiString.cached(name.toLowerCase(Locale.ROOT)));
        }
        return byLength.stream().map(l -> l.toArray(AsciiString[]::new)).toArray(AsciiString[][]::new);
    }

    private static int digit(byte b) {
        return b >= '0' && b <= '9' ? b - '0' : -1000;
    }

    private static boolean matches(byte[] line, int start, int length, byte[] word) {
        return length == word.length && Arrays.equals(line, start, start + length, word, 0, length);
    }

    private static boolean matches(byte[] line, int start, int length, String word) {
        if (length != word.length()) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (line[start + i] != word.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
