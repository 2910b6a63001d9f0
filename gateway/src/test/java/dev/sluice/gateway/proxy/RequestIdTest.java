package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** NGINX's {@code $request_id}: 32 lowercase hex digits of a random 128-bit number. */
class RequestIdTest {

    @Test
    void readsTheTwoNumbersAsThirtyTwoHexDigitsHighFirst() {
        RequestId id = new RequestId(0x0123456789abcdefL, 0xfedcba9876543210L);

        assertThat(id.toString()).isEqualTo("0123456789abcdeffedcba9876543210");
        assertThat(id.length()).isEqualTo(32);
        assertThat(id.charAt(0)).isEqualTo('0');
        assertThat(id.charAt(15)).isEqualTo('f');
        assertThat(id.charAt(16)).isEqualTo('f');
        assertThat(id.charAt(31)).isEqualTo('0');
        assertThat(id.subSequence(14, 18).toString()).isEqualTo("effe");
        assertThat(new RequestId(0, -1).toString()).isEqualTo("0000000000000000ffffffffffffffff");
    }

    @Test
    void outsideTheDigitsIsAnError() {
        RequestId id = new RequestId(1, 2);

        assertThatThrownBy(() -> id.charAt(32)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> id.charAt(-1)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void randomIdsAreHexAndDistinct() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String id = RequestId.random().toString();
            assertThat(id).matches("[0-9a-f]{32}");
            seen.add(id);
        }
        assertThat(seen).hasSize(1000);
    }

    @Test
    void writesTheSameDigitsItReads() {
        ByteBuf buf = Unpooled.buffer(40);
        try {
            for (int i = 0; i < 1000; i++) {
                RequestId id = RequestId.random();
                buf.clear().writeZero(40);
                id.writeTo(buf, 3);
                assertThat(buf.toString(3, 32, StandardCharsets.US_ASCII)).isEqualTo(id.toString());
                assertThat(buf.getByte(2)).isZero();
                assertThat(buf.getByte(35)).isZero();
            }
        } finally {
            buf.release();
        }
    }

    @Test
    void isWrittenIntoAHeaderBlockAsItsDigits() {
        FlatHttpHeaders headers = (FlatHttpHeaders) FlatHttpHeaders.unvalidated(1);
        headers.add(ForwardedHeaders.X_REQUEST_ID, new RequestId(0xabcL, 0x1L));
        ByteBuf buf = Unpooled.buffer();
        try {
            headers.encodeTo(buf);
            assertThat(buf.toString(StandardCharsets.US_ASCII))
                    .isEqualTo("X-Request-ID: 0000000000000abc0000000000000001\r\n");
        } finally {
            buf.release();
        }
    }
}
