package dev.sluice.controller.translate;

import dev.sluice.gateway.route.TlsCertificate;
import dev.sluice.gateway.route.TlsCertificates;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.IngressTLS;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Chooses the server certificate of every host from the Ingresses' {@code tls:} sections and
 * their Secrets, as ingress-nginx's {@code createServers} does (SPEC §10.1).
 *
 * <p>For each host, Ingresses are looked at oldest first; the first one that has a {@code tls:}
 * section and a rule for that host decides:
 * <ul>
 *   <li>a {@code tls[].hosts} entry equal (case-insensitive) to the host → that {@code secretName};
 *   <li>otherwise the first Secret of that Ingress's {@code tls:} list whose certificate covers the
 *       host (DNS SANs, {@code *.example.com} covering exactly one label; the subject CN only when
 *       the certificate has no DNS SAN);
 *   <li>otherwise, or when the {@code secretName} is empty, or the Secret is missing or invalid
 *       (not {@code kubernetes.io/tls}, no {@code tls.crt}/{@code tls.key}, unparsable PEM, key
 *       not matching the certificate), or its certificate does not cover the host → the default
 *       certificate ({@code --default-ssl-certificate}, else the proxy's fake one): the host is
 *       listed in {@link TlsCertificates#defaultHosts}, so it still has TLS configured and is
 *       redirected to HTTPS. Each of these except the empty name is a {@link Problem} on the
 *       Ingress naming the Secret.
 * </ul>
 * Certificates that are expired or not yet valid at the translation's {@code now} are still
 * served, with a Problem as a warning. Wildcard rule hosts ({@code *.foo.com}) get a wildcard
 * entry.
 *
 * <p>This class is the policy only: reading the PEM texts and matching names is
 * {@link CertificateParser}'s and {@link ParsedCertificate}'s work, and parse results come from
 * the translator's {@link CertificateCache}. Used by one translation only; after
 * {@link #select}, {@link #secretsUsed} names the Secrets whose parse results it needed.
 */
final class TlsSelection {
    static final String TLS_TYPE = "kubernetes.io/tls";

    /** A Secret read and checked: either a usable certificate or why not. */
    private record Loaded(TlsCertificate certificate, ParsedCertificate parsed, String error) {
        static Loaded failed(String why) {
            return new Loaded(null, null, why);
        }
    }

    private final SecretIndex secrets;
    private final CertificateCache cache;
    private final Instant now;
    private final ProblemSink problems;
    /** This translation's lookups by {@code namespace/name}: a Secret named twice is read once. */
    private final Map<String, Loaded> loaded = new HashMap<>();
    private final Set<String> parsedSecrets = new HashSet<>();
    /** The first instant after {@code now} at which a certificate checked here changes between not yet valid, valid and expired. */
    private Instant validityUnchangedUntil = Instant.MAX;

    /**
     * @param secrets  the snapshot's Secrets
     * @param cache    parse results kept across translations
     * @param now      the time certificate validity is checked against
     * @param problems where problems about Ingresses go
     */
    TlsSelection(SecretIndex secrets, CertificateCache cache, Instant now, ProblemSink problems) {
        this.secrets = Objects.requireNonNull(secrets, "secrets");
        this.cache = Objects.requireNonNull(cache, "cache");
        this.now = Objects.requireNonNull(now, "now");
        this.problems = Objects.requireNonNull(problems, "problems");
    }

    /**
     * The certificates of all hosts, from mainline Ingresses sorted oldest first.
     *
     * @param defaultCertificate the default certificate ({@link #defaultCertificate}), or
     *                           {@code null} for the proxy's fake one
     */
    TlsCertificates select(List<Ingress> oldestFirst, TlsCertificate defaultCertificate) {
        Map<String, TlsCertificate> byHost = new LinkedHashMap<>();
        Set<String> defaultHosts = new HashSet<>();
        Set<String> decided = new HashSet<>();
        for (Ingress ing : oldestFirst) {
            List<IngressTLS> tls = ing.getSpec() == null ? null : ing.getSpec().getTls();
            if (tls == null || tls.isEmpty() || ing.getSpec().getRules() == null) {
                continue;
            }
            for (IngressRule rule : ing.getSpec().getRules()) {
                String host = IngressTranslator.hostKey(rule.getHost());
                if (host == null || host.isEmpty() || !decided.add(host)) {
                    continue;
                }
                TlsCertificate c = choose(ing, tls, host);
                if (c != null) {
                    byHost.put(host, c);
                } else {
                    // still a TLS host: served the default certificate, and redirected to HTTPS
                    defaultHosts.add(host);
                }
            }
        }
        return new TlsCertificates(byHost, defaultHosts, defaultCertificate);
    }

    /**
     * {@code tls} with the {@code server-alias} names ({@code alias → host}) that the certificate
     * of their host covers, as ingress-nginx gives an alias its server's certificate when valid for
     * it; an alias with a certificate of its own, or one its host's certificate does not cover,
     * is left alone (it gets the default certificate and no HTTPS redirect).
     */
    TlsCertificates withAliases(TlsCertificates tls, Map<String, String> aliases) {
        if (aliases.isEmpty()) {
            return tls;
        }
        Map<String, TlsCertificate> byHost = new LinkedHashMap<>(tls.byHost());
        aliases.forEach((alias, host) -> {
            TlsCertificate c = tls.byHost().get(host);
            Loaded l = c == null ? null : loaded.get(c.secret());
            if (l != null && l.parsed() != null && !byHost.containsKey(alias) && !tls.defaultHosts().contains(alias)
                    && l.parsed().covers(alias)) {
                byHost.put(alias, c);
            }
        });
        return byHost.size() == tls.byHost().size() ? tls
                : new TlsCertificates(byHost, tls.defaultHosts(), tls.defaultCertificate(), tls.clientAuthByHost(),
                        tls.passthrough());
    }

    /**
     * The certificate of {@code --default-ssl-certificate} (a {@code kubernetes.io/tls} Secret), or
     * {@code null} with the reason given to {@code problem} when it is missing or invalid (the
     * proxy then keeps its generated fake certificate).
     */
    TlsCertificate defaultCertificate(String namespace, String name, Consumer<String> problem) {
        Loaded l = load(namespace, name);
        if (l.error() != null) {
            problem.accept("--default-ssl-certificate " + namespace + "/" + name + ": " + l.error()
                    + "; the generated fake certificate is served as the default");
            return null;
        }
        return l.certificate();
    }

    /** {@code namespace/name} of every Secret whose PEM texts this selection needed parsed. */
    Set<String> secretsUsed() {
        return Set.copyOf(parsedSecrets);
    }

    private TlsCertificate choose(Ingress ing, List<IngressTLS> tls, String host) {
        String ns = BackendResolver.namespace(ing);
        String name = ing.getMetadata().getName();
        for (IngressTLS t : tls) {
            if (t.getHosts() != null && t.getHosts().stream().anyMatch(h -> h != null && h.trim().equalsIgnoreCase(host))) {
                String secretName = t.getSecretName();
                if (secretName == null || secretName.isEmpty()) {
                    return null; // documented: TLS with the default certificate
                }
                Loaded l = load(ns, secretName);
                if (l.error() != null) {
                    problems.report(ns, name, "TLS Secret " + ns + "/" + secretName + " for host " + host + ": "
                            + l.error() + "; the default certificate is served");
                    return null;
                }
                if (!l.parsed().covers(host)) {
                    problems.report(ns, name, "the certificate of TLS Secret " + ns + "/" + secretName
                            + " does not cover host " + host + "; the default certificate is served");
                    return null;
                }
                warnIfExpired(ns, name, secretName, l.parsed());
                return l.certificate();
            }
        }
        List<String> unusable = new ArrayList<>();
        for (IngressTLS t : tls) {
            String secretName = t.getSecretName();
            if (secretName == null || secretName.isEmpty()) {
                continue;
            }
            Loaded l = load(ns, secretName);
            if (l.error() != null) {
                unusable.add(ns + "/" + secretName + " (" + l.error() + ")");
            } else if (l.parsed().covers(host)) {
                warnIfExpired(ns, name, secretName, l.parsed());
                return l.certificate();
            }
        }
        problems.report(ns, name, "no TLS Secret of this Ingress covers host " + host
                + (unusable.isEmpty() ? "" : "; unusable: " + String.join(", ", unusable))
                + "; the default certificate is served");
        return null;
    }

    /**
     * Until when (exclusive) every certificate this selection checked stays as valid, not yet
     * valid or expired as it was at {@code now}: a later translation of the same Ingresses and
     * Secrets before then reports the very same problems.
     */
    Instant validityUnchangedUntil() {
        return validityUnchangedUntil;
    }

    /** Same order as {@code X509Certificate.checkValidity}: not yet valid, then expired. */
    private void warnIfExpired(String ns, String name, String secretName, ParsedCertificate c) {
        Instant change = c.notYetValidAt(now) ? c.notBefore()
                : c.expiredAt(now) ? Instant.MAX : c.notAfter().plusNanos(1);
        if (change.isBefore(validityUnchangedUntil)) {
            validityUnchangedUntil = change;
        }
        if (c.notYetValidAt(now)) {
            problems.report(ns, name, "the certificate of TLS Secret " + ns + "/" + secretName + " is not valid before "
                    + c.notBefore() + "; served anyway");
        } else if (c.expiredAt(now)) {
            problems.report(ns, name, "the certificate of TLS Secret " + ns + "/" + secretName + " expired on "
                    + c.notAfter() + "; served anyway");
        }
    }

    private Loaded load(String ns, String secretName) {
        return loaded.computeIfAbsent(ns + "/" + secretName, key -> read(ns, secretName, key));
    }

    private Loaded read(String ns, String secretName, String key) {
        Secret s = secrets.get(ns, secretName);
        if (s == null) {
            return Loaded.failed("not found");
        }
        if (!TLS_TYPE.equals(s.getType())) {
            return Loaded.failed("type is " + s.getType() + ", not " + TLS_TYPE);
        }
        String certPem = SecretIndex.value(s, "tls.crt");
        String keyPem = SecretIndex.value(s, "tls.key");
        if (certPem == null || keyPem == null) {
            return Loaded.failed("tls.crt or tls.key missing or empty");
        }
        parsedSecrets.add(key);
        CertificateParser.Result r = cache.get(key, certPem, keyPem);
        if (r.error() != null) {
            return Loaded.failed(r.error());
        }
        return new Loaded(r.certificate().toTlsCertificate(key), r.certificate(), null);
    }
}
