package dev.sluice.gateway.proxy;

import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Map;
import javax.security.auth.x500.X500Principal;

/** How NGINX writes certificate data into variables: DN strings, PEM, URI escaping. */
final class ClientCertificateText {
    private ClientCertificateText() {}

    /** OpenSSL's short names for attributes the JDK prints only as OIDs. */
    private static final Map<String, String> OPENSSL_NAMES = Map.ofEntries(
            Map.entry("1.2.840.113549.1.9.1", "emailAddress"),
            Map.entry("2.5.4.4", "SN"),
            Map.entry("2.5.4.5", "serialNumber"),
            Map.entry("2.5.4.12", "title"),
            Map.entry("2.5.4.15", "businessCategory"),
            Map.entry("2.5.4.17", "postalCode"),
            Map.entry("2.5.4.42", "GN"),
            Map.entry("2.5.4.43", "initials"),
            Map.entry("2.5.4.44", "generationQualifier"),
            Map.entry("2.5.4.46", "dnQualifier"),
            Map.entry("2.5.4.65", "pseudonym"),
            Map.entry("2.5.4.97", "organizationIdentifier"));

    /** RFC 2253 order and escaping (most specific RDN first), with OpenSSL's attribute names. */
    static String rfc2253(X500Principal name) {
        return name.getName(X500Principal.RFC2253, OPENSSL_NAMES);
    }

    /** A certificate as OpenSSL's {@code PEM_write_bio_X509} writes it. */
    static String pem(X509Certificate c) {
        try {
            return "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(c.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("cannot encode a parsed certificate", e);
        }
    }

    /** NGINX's {@code ngx_escape_uri(…, NGX_ESCAPE_URI_COMPONENT)}: only RFC 3986 unreserved bytes stay. */
    static String escapeUriComponent(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(bytes.length * 3 / 2);
        for (byte b : bytes) {
            int c = b & 0xff;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }
}
