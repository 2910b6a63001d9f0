package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The head checks of {@link RequestChecks}, on heads as Netty's decoder produces them. */
class RequestChecksTest {
    /** Decodes {@code raw} with small limits: a request line over 64 bytes, headers over 256. */
    private static HttpRequest decode(String raw) {
        EmbeddedChannel ch = new EmbeddedChannel(new HttpRequestDecoder(new HttpDecoderConfig()
                .setMaxInitialLineLength(64).setMaxHeaderSize(256)));
        ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
        HttpRequest request = ch.readInbound();
        Object rest;
        while ((rest = ch.readInbound()) != null) {
            ReferenceCountUtil.release(rest);
        }
        ch.finishAndReleaseAll();
        return request;
    }

    private static int rejection(String raw) {
        HttpRequest r = decode(raw);
        ReferenceCountUtil.release(r);
        return RequestChecks.rejection(r);
    }

    @Test
    void anOrdinaryRequestPasses() {
        assertThat(rejection("GET / HTTP/1.1\r\nHost: a\r\n\r\n")).isZero();
        assertThat(rejection("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked \r\n\r\n0\r\n\r\n")).isZero();
        assertThat(rejection("GET / HTTP/1.0\r\n\r\n")).as("HTTP/1.0 needs no Host").isZero();
    }

    @Test
    void decoderFailuresAre400Or414Or431() {
        assertThat(rejection("GET / HTTP/1.1\r\nBad Header Line Without Colon\r\n\r\n")).isEqualTo(400);
        assertThat(rejection("GET /" + "a".repeat(100) + " HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(414);
        assertThat(rejection("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + "b".repeat(300) + "\r\n\r\n")).isEqualTo(431);
    }

    @Test
    void aDuplicateOrMissingHostIs400() {
        assertThat(rejection("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")).isEqualTo(400);
        assertThat(rejection("GET / HTTP/1.1\r\n\r\n")).isEqualTo(400);
        assertThat(rejection("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n")).isEqualTo(400);
    }

    @Test
    void anyTransferEncodingButOneChunkedIs501() {
        assertThat(rejection("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n")).isEqualTo(501);
        assertThat(rejection("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")).isEqualTo(501);
    }
}
