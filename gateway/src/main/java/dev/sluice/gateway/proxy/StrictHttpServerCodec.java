package dev.sluice.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The HTTP/1.1 codec of a client connection: Netty's request decoder and response encoder, as
 * in {@code HttpServerCodec}, except that a request head with obsolete line folding (a header
 * line starting with a space or tab, RFC 9112 §5.2) is a bad request. Netty joins such a line
 * to the header before it; NGINX rejects it with 400, and a proxy that forwards the joined
 * value reads a head differently from a server that does not fold, so it is refused here.
 *
 * <p>Netty's decoder keeps no trace of a fold in what it produces, so the head's bytes are
 * looked at before the decoder reads them: each byte of a head once (a head arriving a byte at
 * a time costs no more), none of a body.
 *
 * <p>As {@code HttpServerCodec}, the encoder sends no body after a {@code HEAD} request, for
 * which it remembers the method of every request whose response is still to be written.
 */
final class StrictHttpServerCodec extends CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> {
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(4);

    StrictHttpServerCodec(HttpDecoderConfig config) {
        init(new FoldRejectingDecoder(config, methods), new Encoder(methods));
    }

    /** Where the head scanner is: the states of an HTTP/1.x head, line by line. */
    private static final int BEFORE_HEAD = 0; // empty lines before a request line are skipped, as Netty does
    private static final int IN_LINE = 1;
    private static final int LINE_START = 2;
    private static final int LINE_START_CR = 3;
    private static final int IN_BODY = 4; // the head has ended; nothing is scanned until the request ends
    private static final int BROKEN = 5; // a fold was found: the connection's input is discarded

    private static final class FoldRejectingDecoder extends HttpRequestDecoder {
        private final ArrayDeque<HttpMethod> methods;
        private int state = BEFORE_HEAD;
        private int scannedAhead; // readable bytes at the start of the input that were already scanned

        FoldRejectingDecoder(HttpDecoderConfig config, ArrayDeque<HttpMethod> methods) {
            super(config);
            this.methods = methods;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            if (state == BROKEN) {
                in.skipBytes(in.readableBytes());
                return;
            }
            if (state != IN_BODY && !scanHead(in)) {
                state = BROKEN;
                in.skipBytes(in.readableBytes());
                HttpMessage bad = createInvalidMessage();
                bad.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("obsolete line folding")));
                methods.add(HttpMethod.GET);
                out.add(bad);
                return;
            }
            int before = out.size();
            int scannedEnd = in.readerIndex() + scannedAhead;
            super.decode(ctx, in, out);
            scannedAhead = Math.max(0, scannedEnd - in.readerIndex());
            for (int i = before; i < out.size(); i++) {
                Object o = out.get(i);
                if (o instanceof HttpRequest r) {
                    methods.add(r.method());
                    state = IN_BODY;
                }
                if (o instanceof LastHttpContent) {
                    state = BEFORE_HEAD; // the next request's head starts where the decoder stopped
                    scannedAhead = 0;
                }
            }
        }

        /**
         * Scans the head bytes not scanned before, up to the head's end; {@code false} on a
         * header line that starts with a space or a tab.
         */
        private boolean scanHead(ByteBuf in) {
            int i = in.readerIndex() + scannedAhead;
            int end = in.writerIndex();
            int s = state;
            for (; i < end && s != IN_BODY; i++) {
                byte b = in.getByte(i);
                switch (s) {
                    case BEFORE_HEAD -> s = b == '\r' || b == '\n' || b == ' ' || b == '\t' ? BEFORE_HEAD : IN_LINE;
                    case IN_LINE -> s = b == '\n' ? LINE_START : IN_LINE;
                    case LINE_START -> {
                        if (b == ' ' || b == '\t') {
                            return false;
                        }
                        s = b == '\r' ? LINE_START_CR : b == '\n' ? IN_BODY : IN_LINE;
                    }
                    case LINE_START_CR -> s = b == '\n' ? IN_BODY : IN_LINE;
                    default -> throw new IllegalStateException("scanner state " + s);
                }
            }
            state = s;
            scannedAhead = i - in.readerIndex();
            return true;
        }
    }

    private static final class Encoder extends HttpResponseEncoder {
        private final ArrayDeque<HttpMethod> methods;
        private HttpMethod method;

        Encoder(ArrayDeque<HttpMethod> methods) {
            this.methods = methods;
        }

        @Override
        protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
            if (headers instanceof FlatHttpHeaders flat) {
                flat.encodeTo(buf);
            } else {
                super.encodeHeaders(headers, buf);
            }
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(msg); // an interim answer: the request's final one follows
            }
            method = methods.poll();
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
        }

        @Override
        protected void sanitizeHeadersBeforeEncode(HttpResponse msg, boolean isAlwaysEmpty) {
            if (!isAlwaysEmpty && HttpMethod.CONNECT.equals(method)
                    && msg.status().codeClass() == HttpStatusClass.SUCCESS) {
                msg.headers().remove(io.netty.handler.codec.http.HttpHeaderNames.TRANSFER_ENCODING);
                return;
            }
            super.sanitizeHeadersBeforeEncode(msg, isAlwaysEmpty);
        }
    }
}
