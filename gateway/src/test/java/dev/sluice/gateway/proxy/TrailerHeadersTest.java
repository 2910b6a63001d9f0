package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The trailers the proxy's decoders hand out: empty without storage, a trailer section as Netty's. */
class TrailerHeadersTest {

    @Test
    void emptyTrailersReadAsEmptyHeaders() {
        HttpHeaders t = FlatHttpHeaders.TRAILERS.newHeaders();
        assertThat(t.isEmpty()).isTrue();
        assertThat(t.size()).isZero();
        assertThat(t.get("Grpc-Status")).isNull();
        assertThat(t.getInt("X", 7)).isEqualTo(7);
        assertThat(t.getAll("X")).isEmpty();
        assertThat(t.names()).isEmpty();
        assertThat(t.iteratorCharSequence().hasNext()).isFalse();
        assertThat(t.contains("X")).isFalse();
        t.remove("X");
        assertThat(t.isEmpty()).isTrue();
    }

    @Test
    void writtenTrailersAreStoredAndValidatedAsNettysTrailers() {
        HttpHeaders t = FlatHttpHeaders.TRAILERS.newHeaders();
        t.add("Grpc-Status", "0").add("X-Checksum", "a").add("x-checksum", "b");
        assertThat(t.size()).isEqualTo(3);
        assertThat(t.get("grpc-status")).isEqualTo("0");
        assertThat(t.getAll("X-Checksum")).containsExactly("a", "b");
        t.remove("x-CHECKSUM");
        assertThat(t.names()).containsExactly("Grpc-Status");
        // a framing header is not allowed in a trailer section (Netty's trailers factory)
        assertThatThrownBy(() -> t.add("Content-Length", "5")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> t.add("Bad Name", "x")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anUpstreamDecoderWithThemDecodesLengthAndChunkedBodiesAsBefore() {
        EmbeddedChannel ch = new EmbeddedChannel(new UpstreamHttpCodec(new HttpDecoderConfig()
                .setTrailersFactory(FlatHttpHeaders.TRAILERS)));
        List<Object> got = new ArrayList<>();
        ch.writeOutbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"));
        ch.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
        ch.writeInbound(bytes("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"));
        ch.writeOutbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"));
        ch.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
        ch.writeInbound(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\nGrpc-Status: 0\r\n\r\n"));
        Object m;
        while ((m = ch.readInbound()) != null) {
            got.add(m);
        }
        List<LastHttpContent> lasts = got.stream().filter(o -> o instanceof LastHttpContent)
                .map(o -> (LastHttpContent) o).toList();
        assertThat(got.stream().filter(o -> o instanceof HttpResponse).count()).isEqualTo(2);
        assertThat(lasts).hasSize(2);
        assertThat(lasts.get(0).content().toString(StandardCharsets.US_ASCII)).isEqualTo("abc");
        assertThat(lasts.get(0).trailingHeaders().isEmpty()).isTrue();
        assertThat(lasts.get(1).trailingHeaders().get("grpc-status")).isEqualTo("0");
        got.forEach(o -> {
            if (o instanceof HttpContent c) {
                c.release();
            }
        });
        ch.finishAndReleaseAll();
    }

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }
}
