package dev.sluice.controller.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.controller.cli.Main;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.ParameterException;

/** {@code --validating-webhook=[host]:port} and its certificate and key, as ingress-nginx spells them. */
class AdmissionWebhookFlagsTest {
    private static final String CERT = "--validating-webhook-certificate=/usr/local/certificates/cert";
    private static final String KEY = "--validating-webhook-key=/usr/local/certificates/key";

    @Test
    void addressesAsGoWritesThem() {
        assertThat(Main.parse("--validating-webhook=:8443", CERT, KEY).validatingWebhook())
                .isEqualTo(new AdmissionWebhookConfig(null, 8443, Path.of("/usr/local/certificates/cert"),
                        Path.of("/usr/local/certificates/key")));
        assertThat(Main.parse("--validating-webhook=127.0.0.1:9443", CERT, KEY).validatingWebhook().host())
                .isEqualTo("127.0.0.1");
        assertThat(Main.parse("--validating-webhook=[::1]:9443", CERT, KEY).validatingWebhook().host()).isEqualTo("::1");
        assertThat(Main.parse().validatingWebhook()).isNull();
    }

    @Test
    void badAddressesAndMissingFilesAreUsageErrors() {
        assertThatThrownBy(() -> Main.parse("--validating-webhook=8443", CERT, KEY))
                .isInstanceOf(ParameterException.class).hasMessageContaining("[host]:port");
        assertThatThrownBy(() -> Main.parse("--validating-webhook=::1:8443", CERT, KEY))
                .isInstanceOf(ParameterException.class).hasMessageContaining("brackets");
        assertThatThrownBy(() -> Main.parse("--validating-webhook=:99999", CERT, KEY))
                .isInstanceOf(ParameterException.class).hasMessageContaining("0..65535");
        assertThatThrownBy(() -> Main.parse("--validating-webhook=:8443", CERT))
                .isInstanceOf(ParameterException.class).hasMessageContaining("--validating-webhook-key");
        assertThatThrownBy(() -> Main.parse(CERT, KEY))
                .isInstanceOf(ParameterException.class).hasMessageContaining("need --validating-webhook");
    }
}
