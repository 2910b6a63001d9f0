package dev.sluice.controller.admission;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the validating admission webhook listens and the PEM files of its HTTPS server
 * ({@code --validating-webhook=[host]:port}, {@code --validating-webhook-certificate},
 * {@code --validating-webhook-key}).
 *
 * @param host        the address to listen on, or {@code null} for all interfaces
 * @param port        the port; 0 picks a free one (logged)
 * @param certificate PEM certificate chain
 * @param key         PEM private key
 */
public record AdmissionWebhookConfig(String host, int port, Path certificate, Path key) {
    public AdmissionWebhookConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, not " + port);
        }
        Objects.requireNonNull(certificate, "certificate");
        Objects.requireNonNull(key, "key");
    }

    /**
     * Go's {@code [host]:port} as ingress-nginx's flag takes it: {@code :8443},
     * {@code 127.0.0.1:8443}, {@code [::1]:8443}.
     *
     * @throws IllegalArgumentException for anything else
     */
    public static AdmissionWebhookConfig parse(String address, Path certificate, Path key) {
        int colon = address.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("expected [host]:port, e.g. :8443, not '" + address + "'");
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException("an IPv6 address needs brackets: [" + host + "]:port");
        }
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid port in '" + address + "'");
        }
        return new AdmissionWebhookConfig(host.isEmpty() ? null : host, port, certificate, key);
    }
}
