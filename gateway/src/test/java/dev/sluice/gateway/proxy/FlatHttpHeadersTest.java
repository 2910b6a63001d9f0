package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
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
 * The proxy's flat headers behave as Netty's {@code DefaultHttpHeaders}: every sequence of
 * changes leaves the same headers, in the same order, answering every look-up alike; names and
 * values are refused exactly when Netty's default headers refuse them.
 */
class FlatHttpHeadersTest {

    /** One change to a headers object; {@code value} null for a removal. */
    record Op(String kind, String name, String value) {}

    @Provide
    Arbitrary<List<Op>> changes() {
        // few names in many spellings, so that look-ups, duplicates and case-insensitivity meet
        Arbitrary<String> names = Arbitraries.of("Host", "host", "HOST", "Accept", "accept", "X-A", "x-a", "Cookie",
                "Content-Length", "Transfer-Encoding", "Connection");
        Arbitrary<String> values = Arbitraries.of("1", "a", "b, c", "chunked", "close", "", "x y", "0012", "C ,close",
                "gzip , chunked", ",", "c,");
        Arbitrary<String> kinds = Arbitraries.of("add", "add", "add", "set", "remove", "setAll", "clear", "addInt");
        return Combinators.combine(kinds, names, values).as(Op::new).list().ofMaxSize(25);
    }

    @Property(tries = 400)
    void everySequenceOfChangesLeavesWhatNettysHeadersLeave(@ForAll("changes") List<Op> ops) {
        HttpHeaders flat = FlatHttpHeaders.VALIDATED.newHeaders();
        HttpHeaders netty = DefaultHttpHeadersFactory.headersFactory().newHeaders();
        for (Op op : ops) {
            Throwable refusedByFlat = thrown(() -> apply(op, flat));
            Throwable refusedByNetty = thrown(() -> apply(op, netty));
            assertThat(refusedByFlat == null).as("%s refused alike", op).isEqualTo(refusedByNetty == null);
            assertSame(flat, netty);
        }
    }

    private static void apply(Op op, HttpHeaders h) {
        switch (op.kind()) {
            case "add" -> h.add(new AsciiString(op.name()), op.value());
            case "set" -> h.set(op.name(), op.value());
            case "remove" -> h.remove(new AsciiString(op.name()));
            case "setAll" -> h.set(op.name(), List.of(op.value(), op.value() + "2"));
            case "clear" -> h.clear();
            case "addInt" -> h.addInt(op.name(), op.value().length());
            default -> throw new IllegalArgumentException(op.kind());
        }
    }

    private static void assertSame(HttpHeaders flat, HttpHeaders netty) {
        assertThat(pairs(flat)).isEqualTo(pairs(netty));
        assertThat(flat.size()).isEqualTo(netty.size());
        assertThat(flat.isEmpty()).isEqualTo(netty.isEmpty());
        // Netty's set may hold one spelling twice (once as AsciiString, once as String): compare as strings
        assertThat(flat.names()).isEqualTo(new java.util.HashSet<>(netty.names()));
        assertThat(flat.entries()).isEqualTo(netty.entries());
        for (String name : List.of("host", "ACCEPT", "x-A", "cookie", "content-length", "transfer-encoding", "missing")) {
            assertThat(flat.get(name)).as(name).isEqualTo(netty.get(name));
            assertThat(flat.get(new AsciiString(name))).isEqualTo(netty.get(new AsciiString(name)));
            assertThat(flat.getAll(name)).isEqualTo(netty.getAll(name));
            assertThat(flat.contains(name)).isEqualTo(netty.contains(name));
            assertThat(flat.getInt(name)).isEqualTo(netty.getInt(name));
            assertThat(flat.getInt(name, -9)).isEqualTo(netty.getInt(name, -9));
            assertThat(flat.contains(name, "CLOSE", true)).isEqualTo(netty.contains(name, "CLOSE", true));
            assertThat(flat.contains(name, "close", false)).isEqualTo(netty.contains(name, "close", false));
            assertThat(flat.containsValue(name, "c", true)).isEqualTo(netty.containsValue(name, "c", true));
            assertThat(flat.containsValue(name, "C", false)).isEqualTo(netty.containsValue(name, "C", false));
            assertThat(flat.containsValue(name, "", false)).isEqualTo(netty.containsValue(name, "", false));
            assertThat(flat.containsValue(name, "chunked", true)).isEqualTo(netty.containsValue(name, "chunked", true));
        }
        assertThat(HttpUtil.isTransferEncodingChunked(message(flat)))
                .isEqualTo(HttpUtil.isTransferEncodingChunked(message(netty)));
        // Sluice's encoders write flat headers themselves (FlatHttpHeaders.encodeTo): the same bytes
        assertThat(encode(flat, new UpstreamHttpCodec(new HttpDecoderConfig()), true))
                .isEqualTo(encode(netty, new HttpRequestEncoder(), true));
        assertThat(encode(flat, new StrictHttpServerCodec(new HttpDecoderConfig()), false))
                .isEqualTo(encode(netty, new io.netty.handler.codec.http.HttpResponseEncoder(), false));
        HttpHeaders copy = flat.copy();
        flat.add("X-After-Copy", "1");
        assertThat(pairs(copy)).isEqualTo(pairs(netty));
        flat.remove("X-After-Copy");
    }

    private static List<String> pairs(HttpHeaders h) {
        List<String> out = new ArrayList<>();
        Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            out.add(e.getKey() + ": " + e.getValue());
        }
        List<String> viaStrings = new ArrayList<>();
        h.forEach(e -> viaStrings.add(e.getKey() + ": " + e.getValue()));
        assertThat(viaStrings).isEqualTo(out);
        return out;
    }

    private static io.netty.handler.codec.http.HttpRequest message(HttpHeaders h) {
        io.netty.handler.codec.http.DefaultHttpRequest r = new io.netty.handler.codec.http.DefaultHttpRequest(
                io.netty.handler.codec.http.HttpVersion.HTTP_1_1, io.netty.handler.codec.http.HttpMethod.GET, "/");
        r.headers().set(DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders().add(h));
        return r;
    }

    /** The bytes {@code encoder} writes for a request (or a response) head with these headers. */
    private static String encode(HttpHeaders h, io.netty.channel.ChannelHandler encoder, boolean request) {
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        ch.writeOutbound(request
                ? new io.netty.handler.codec.http.DefaultHttpRequest(io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
                        io.netty.handler.codec.http.HttpMethod.GET, "/", h)
                : new io.netty.handler.codec.http.DefaultHttpResponse(io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
                        io.netty.handler.codec.http.HttpResponseStatus.OK, h));
        io.netty.buffer.ByteBuf b = ch.readOutbound();
        try {
            return b.toString(StandardCharsets.US_ASCII);
        } finally {
            b.release();
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void theSharedEmptyHeadersRefuseEveryAdditionAndStayEmpty() {
        HttpHeaders empty = FlatHttpHeaders.EMPTY;

        assertThatThrownBy(() -> empty.add("Grpc-Status", "0")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> empty.set("Grpc-Status", "0")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> empty.add(new DefaultHttpHeaders().add("a", "b")))
                .isInstanceOf(UnsupportedOperationException.class);
        empty.remove("Grpc-Status").clear();
        assertThat(empty.isEmpty()).isTrue();
        assertThat(empty.get("Grpc-Status")).isNull();
        HttpHeaders copy = empty.copy();
        copy.add("Grpc-Status", "0"); // a copy is an ordinary headers object
        assertThat(copy.get("Grpc-Status")).isEqualTo("0");
        assertThat(empty.isEmpty()).isTrue();
    }

    @Test
    void namesAndValuesAreRefusedExactlyWhenNettyRefusesThem() {
        List<String> names = List.of("Good", "Bad Name", "a:b", "", "Ok-1", "tab\tname", "é");
        List<String> values = List.of("fine", "line\r\nbreak", "nul\0", "tab\tok", "bare\nlf", "  padded  ");
        for (String n : names) {
            for (String v : values) {
                Throwable flat = thrown(() -> FlatHttpHeaders.VALIDATED.newHeaders().add(n, v));
                Throwable netty = thrown(() -> DefaultHttpHeadersFactory.headersFactory().newHeaders().add(n, v));
                assertThat(flat == null).as("%s: %s", n, v).isEqualTo(netty == null);
                Throwable flatSet = thrown(() -> FlatHttpHeaders.VALIDATED.newHeaders().set(n, v));
                assertThat(flatSet == null).as("set %s: %s", n, v).isEqualTo(netty == null);
            }
        }
        assertThatThrownBy(() -> FlatHttpHeaders.VALIDATED.newHeaders().add("X", (Object) null))
                .isInstanceOf(NullPointerException.class);
        // the unvalidated kind takes what the proxy built itself as is
        assertThat(FlatHttpHeaders.UNVALIDATED.newHeaders().add("Bad Name", "x").get("bad name")).isEqualTo("x");
    }

    private static Throwable thrown(Runnable r) {
        try {
            r.run();
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }

    @Test
    void datesAndNumbersAreStoredAsNettyConvertsThem() {
        Date d = new Date(784111777000L);
        HttpHeaders flat = FlatHttpHeaders.VALIDATED.newHeaders().add("Date", d).add("N", 42).setShort("S", (short) 7);
        HttpHeaders netty = DefaultHttpHeadersFactory.headersFactory().newHeaders().add("Date", d).add("N", 42)
                .setShort("S", (short) 7);
        assertThat(pairs(flat)).isEqualTo(pairs(netty)).contains("Date: Sun, 06 Nov 1994 08:49:37 GMT");
        assertThat(flat.getTimeMillis("date")).isEqualTo(784111777000L);
        assertThat(flat.getShort("s")).isEqualTo((short) 7);
    }

    @Test
    void aDecoderWithThemReadsARequestAsWithNettysHeaders() {
        String head = "POST /p HTTP/1.1\r\nHost: a.example\r\nX-Dup: 1\r\nx-dup: 2\r\nContent-Length: 3\r\n\r\nabc";
        FullHttpRequest flat = decode(head, FlatHttpHeaders.VALIDATED);
        FullHttpRequest netty = decode(head, DefaultHttpHeadersFactory.headersFactory());
        try {
            assertThat(pairs(flat.headers())).isEqualTo(pairs(netty.headers()));
            assertThat(flat.content().toString(StandardCharsets.US_ASCII)).isEqualTo("abc");
            assertThat(flat.headers().getAll("X-DUP")).containsExactly("1", "2");
            assertThat(HttpUtil.getContentLength(flat)).isEqualTo(3);
        } finally {
            flat.release();
            netty.release();
        }
        // a header name with a space is a bad request, as with Netty's headers
        assertThat(decode("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", FlatHttpHeaders.VALIDATED).decoderResult().isFailure())
                .isTrue();
        assertThat(decode("GET / HTTP/1.1\r\nHost: a\r\n\r\n", FlatHttpHeaders.VALIDATED).headers()
                .get(HttpHeaderNames.HOST)).isEqualTo("a");
    }

    private static FullHttpRequest decode(String raw, io.netty.handler.codec.http.HttpHeadersFactory factory) {
        EmbeddedChannel ch = new EmbeddedChannel(new HttpRequestDecoder(new HttpDecoderConfig().setHeadersFactory(factory)),
                new HttpObjectAggregator(1024));
        ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.US_ASCII));
        FullHttpRequest r = ch.readInbound();
        ch.finishAndReleaseAll();
        return r;
    }
}
