package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The upstream codec decodes what Netty's {@code HttpClientCodec} decodes, message for message,
 * while sharing the status line's words and the common header names instead of allocating them.
 */
class UpstreamHttpCodecTest {

    /** One request sent and the bytes the upstream answers with (possibly not HTTP at all). */
    record Exchange(HttpMethod method, String response) {}

    @Provide
    Arbitrary<List<Exchange>> exchanges() {
        Arbitrary<String> versions = Arbitraries.of("HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "http/1.1", "HTTP/2.0", "HTTP/1.1x");
        Arbitrary<String> codes = Arbitraries.of("200", "204", "304", "404", "101", "100", "599", "600", "099", "20",
                "2000", "abc", "302", "503", "299", "1x0");
        Arbitrary<String> reasons = Arbitraries.of("OK", "ok", "Not Found", "No Content", "Found", "", "Whatever",
                "Service Unavailable", "Switching Protocols", "Continue", "OK ");
        Arbitrary<String> names = Arbitraries.of("Content-Type", "content-type", "CONTENT-TYPE", "Server", "server",
                "Date", "ETag", "etag", "Etag", "Set-Cookie", "X-Custom", "Vary", "Connection", "Keep-Alive",
                "Content-Len", "Content-Lengthx", "Location", "Transfer-Encoding", "Bad Name", "Age");
        Arbitrary<String> values = Arbitraries.of("text/plain", "1", "", "close", "keep-alive", "chunked",
                "a=b; Path=/", "  spaced  ", "nginx", "gzip, chunked");
        Arbitrary<String> header = Combinators.combine(names, values).as((n, v) -> n + ": " + v + "\r\n");
        Arbitrary<String> framing = Arbitraries.of("content-length: 3\r\n\r\nabc", "Content-Length: 0\r\n\r\n",
                "Transfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\nGrpc-Status: 0\r\n\r\n",
                "Content-Length: 2\r\nContent-Length: 2\r\n\r\nhi", "\r\n", "Content-Length: x\r\n\r\n");
        Arbitrary<String> response = Combinators.combine(versions, codes, reasons, header.list().ofMaxSize(6), framing)
                .as((v, c, r, hs, f) -> v + " " + c + (r.isEmpty() ? "" : " " + r) + "\r\n" + String.join("", hs) + f);
        Arbitrary<HttpMethod> methods = Arbitraries.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.CONNECT);
        return Combinators.combine(methods, response).as(Exchange::new).list().ofMinSize(1).ofMaxSize(4);
    }

    @Property(tries = 400)
    void decodesWhatNettysClientCodecDecodes(@ForAll("exchanges") List<Exchange> exchanges,
                                             @ForAll boolean byteByByte) {
        assertThat(decode(new UpstreamHttpCodec(config()), exchanges, byteByByte))
                .isEqualTo(decode(new HttpClientCodec(config(), false, false), exchanges, byteByByte));
    }

    @Test
    void aHeadResponseHasNoBodyAndAConnectTunnelIsPassedOnAsBytes() {
        List<Exchange> exchanges = List.of(
                new Exchange(HttpMethod.HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"),
                new Exchange(HttpMethod.GET, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
                new Exchange(HttpMethod.CONNECT, "HTTP/1.1 200 Connection established\r\n\r\nraw bytes"));
        assertThat(decode(new UpstreamHttpCodec(config()), exchanges, false)).containsExactly(
                "response HTTP/1.1 200 OK [Content-Length=5]", "last ''",
                "response HTTP/1.1 200 OK [Content-Length=2]", "last 'hi'",
                "response HTTP/1.1 200 Connection established []", "last ''", "bytes 'raw bytes'");
    }

    @Test
    void theStatusLineWordsAndCommonHeaderNamesAreSharedBetweenResponses() {
        EmbeddedChannel ch = new EmbeddedChannel(new UpstreamHttpCodec(config()));
        List<HttpResponse> responses = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ch.writeOutbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"),
                    LastHttpContent.EMPTY_LAST_CONTENT);
            ch.writeInbound(ascii("HTTP/1.1 404 Not Found\r\nServer: nginx\r\ncontent-type: text/plain\r\n"
                    + "X-Rare: 1\r\nContent-Length: 0\r\n\r\n"));
            responses.add(ch.readInbound());
            ReferenceCountUtil.release(ch.readInbound());
        }
        HttpResponse first = responses.get(0);
        HttpResponse second = responses.get(1);
        assertThat(second.status()).isSameAs(first.status()); // "404" and "Not Found" matched Netty's constant
        List<CharSequence> firstNames = names(first);
        List<CharSequence> secondNames = names(second);
        assertThat(firstNames).map(CharSequence::toString)
                .containsExactly("Server", "content-type", "X-Rare", "Content-Length");
        for (int i : new int[] {0, 1, 3}) {
            assertThat(secondNames.get(i)).isSameAs(firstNames.get(i));
        }
        assertThat(secondNames.get(2)).isNotSameAs(firstNames.get(2)); // a rare name is decoded as Netty does
        ch.finishAndReleaseAll();
    }

    @Test
    void onlyAChunkedBodyGetsTrailersOfItsOwn() {
        EmbeddedChannel ch = new EmbeddedChannel(new UpstreamHttpCodec(config()));
        List<LastHttpContent> ends = new ArrayList<>();
        for (String response : List.of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nGrpc-Status: 0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")) {
            ch.writeOutbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"),
                    LastHttpContent.EMPTY_LAST_CONTENT);
            ch.writeInbound(ascii(response));
            for (Object o; (o = ch.readInbound()) != null; ) {
                if (o instanceof LastHttpContent last) {
                    ends.add(last);
                }
            }
        }
        assertThat(ends).hasSize(3);
        assertThat(ends.get(0).trailingHeaders()).isSameAs(FlatHttpHeaders.EMPTY); // nothing can follow a length
        assertThat(ends.get(1).trailingHeaders().get("Grpc-Status")).isEqualTo("0");
        assertThat(ends.get(2).trailingHeaders()).isSameAs(FlatHttpHeaders.EMPTY);
        ends.forEach(ReferenceCountUtil::release);
        ch.finishAndReleaseAll();
    }

    private static List<CharSequence> names(HttpResponse r) {
        List<CharSequence> names = new ArrayList<>();
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = r.headers().iteratorCharSequence(); it.hasNext(); ) {
            names.add(it.next().getKey());
        }
        return names;
    }

    private static HttpDecoderConfig config() {
        return new HttpDecoderConfig().setMaxInitialLineLength(8192).setMaxHeaderSize(8192).setMaxChunkSize(64 * 1024)
                .setHeadersFactory(FlatHttpHeaders.VALIDATED).setTrailersFactory(FlatHttpHeaders.TRAILERS);
    }

    /** Sends each request, feeds its response, and describes every message decoded. */
    private static List<String> decode(ChannelHandler codec, List<Exchange> exchanges, boolean byteByByte) {
        EmbeddedChannel ch = new EmbeddedChannel(codec);
        List<String> got = new ArrayList<>();
        for (Exchange e : exchanges) {
            ch.writeOutbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, e.method(), "/"));
            ch.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
            for (Object o; (o = ch.readOutbound()) != null; ) {
                ReferenceCountUtil.release(o);
            }
            byte[] bytes = e.response().getBytes(StandardCharsets.ISO_8859_1);
            if (byteByByte) {
                for (byte b : bytes) {
                    ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
                }
            } else {
                ch.writeInbound(Unpooled.wrappedBuffer(bytes));
            }
            for (Object o; (o = ch.readInbound()) != null; ) {
                got.add(describe(o));
                ReferenceCountUtil.release(o);
            }
        }
        ch.finishAndReleaseAll();
        return got;
    }

    private static String describe(Object o) {
        StringBuilder s = new StringBuilder();
        if (o instanceof HttpResponse r) {
            s.append("response ").append(r.protocolVersion()).append(' ').append(r.status().code()).append(' ')
                    .append(r.status().reasonPhrase()).append(' ').append(headers(r.headers().iteratorCharSequence()));
            if (r.decoderResult().isFailure()) {
                s.append(" failed: ").append(r.decoderResult().cause());
            }
        } else if (o instanceof HttpContent c) {
            s.append(c instanceof LastHttpContent ? "last '" : "content '")
                    .append(c.content().toString(StandardCharsets.ISO_8859_1)).append('\'');
            if (c instanceof LastHttpContent last && !last.trailingHeaders().isEmpty()) {
                s.append(' ').append(headers(last.trailingHeaders().iteratorCharSequence()));
            }
            if (c.decoderResult().isFailure()) {
                s.append(" failed: ").append(c.decoderResult().cause());
            }
        } else if (o instanceof ByteBuf b) {
            s.append("bytes '").append(b.toString(StandardCharsets.ISO_8859_1)).append('\'');
        } else {
            s.append(o);
        }
        return s.toString();
    }

    private static String headers(Iterator<Map.Entry<CharSequence, CharSequence>> it) {
        List<String> pairs = new ArrayList<>();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            pairs.add(e.getKey() + "=" + e.getValue());
        }
        return pairs.toString();
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }
}
