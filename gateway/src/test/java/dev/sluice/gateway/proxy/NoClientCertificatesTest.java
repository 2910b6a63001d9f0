package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;

/**
 * A server context that asks for no client certificate trusts no chain and names no CA (so that
 * building it reads none of the JDK's trusted CAs), and still asks for none.
 */
class NoClientCertificatesTest {
    private static final X509Certificate[] FAKE = {FakeCertificate.get().certificate()};

    @Test
    void namesNoCertificateAuthority() {
        assertThat(NoClientCertificates.INSTANCE.getAcceptedIssuers()).isEmpty();
    }

    @Test
    void rejectsEveryClientChain() {
        assertThatThrownBy(() -> NoClientCertificates.INSTANCE.checkClientTrusted(FAKE, "EC"))
                .isInstanceOf(CertificateException.class);
        assertThatThrownBy(() -> NoClientCertificates.INSTANCE.checkClientTrusted(FAKE, "EC", (SSLEngine) null))
                .isInstanceOf(CertificateException.class);
    }

    @Test
    void rejectsEveryServerChain() {
        assertThatThrownBy(() -> NoClientCertificates.INSTANCE.checkServerTrusted(FAKE, "EC"))
                .isInstanceOf(CertificateException.class);
        assertThatThrownBy(() -> NoClientCertificates.INSTANCE.checkServerTrusted(FAKE, "EC", (SSLEngine) null))
                .isInstanceOf(CertificateException.class);
    }

    @Test
    void theDefaultCertificatesContextAsksForNoClientCertificate() {
        SslContext context = FakeCertificate.serverContext();
        SSLEngine engine = context.newEngine(ByteBufAllocator.DEFAULT);
        try {
            assertThat(engine.getUseClientMode()).isFalse();
            assertThat(engine.getNeedClientAuth()).isFalse();
            assertThat(engine.getWantClientAuth()).isFalse();
        } finally {
            io.netty.util.ReferenceCountUtil.release(engine);
        }
    }
}
