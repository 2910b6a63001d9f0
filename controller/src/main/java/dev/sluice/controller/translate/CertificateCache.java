package dev.sluice.controller.translate;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Parse results of TLS Secrets, kept from one translation to the next: every rebuild (an endpoint
 * change is enough) reads every TLS Secret in use, and parsing plus the key check cost
 * milliseconds each. Owned by whoever runs the translations (one per {@link IngressTranslator}),
 * never shared through a static field.
 *
 * <p>Entries are keyed by the Secret's {@code namespace/name} and hold the PEM texts they were
 * parsed from; a lookup with other texts parses again and replaces the entry, so a changed Secret
 * never gets a stale result. The {@code resourceVersion} is not trusted for this: manifest files
 * may carry one copied from {@code kubectl get -o yaml} and keep it across edits.
 *
 * <p>Private keys never outlive their Secrets here: after each translation the translator calls
 * {@link #retainOnly} with the Secrets it looked up, which drops the entries of deleted Secrets
 * and of Secrets no Ingress uses any more. At most {@code maxEntries} entries are kept; the least
 * recently used goes first.
 *
 * <p>Thread-safe; parsing happens outside the lock.
 */
public final class CertificateCache {
    /** The bound used by {@link #CertificateCache()}. */
    public static final int DEFAULT_MAX_ENTRIES = 4096;

    /** A Secret's PEM texts and what they parse to. */
    private record Entry(String certPem, String keyPem, CertificateParser.Result result) {}

    private final int maxEntries;
    private final Map<String, Entry> entries; // guarded by this

    /** A cache of at most {@link #DEFAULT_MAX_ENTRIES} Secrets. */
    public CertificateCache() {
        this(DEFAULT_MAX_ENTRIES);
    }

    /** A cache of at most {@code maxEntries} Secrets ({@code 0} caches nothing). */
    public CertificateCache(int maxEntries) {
        if (maxEntries < 0) {
            throw new IllegalArgumentException("maxEntries must not be negative: " + maxEntries);
        }
        this.maxEntries = maxEntries;
        this.entries = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                return size() > CertificateCache.this.maxEntries;
            }
        };
    }

    /**
     * What the Secret {@code secret}'s {@code tls.crt} and {@code tls.key} parse to: the cached
     * result when the texts are the ones parsed last time, else a fresh one (then cached).
     *
     * @param secret {@code namespace/name}
     */
    CertificateParser.Result get(String secret, String certPem, String keyPem) {
        synchronized (this) {
            Entry e = entries.get(secret);
            if (e != null && e.certPem().equals(certPem) && e.keyPem().equals(keyPem)) {
                return e.result();
            }
        }
        CertificateParser.Result result = CertificateParser.parse(certPem, keyPem);
        synchronized (this) {
            entries.put(secret, new Entry(certPem, keyPem, result));
        }
        return result;
    }

    /** Drops every entry whose Secret ({@code namespace/name}) is not in {@code secrets}. */
    synchronized void retainOnly(Set<String> secrets) {
        entries.keySet().retainAll(secrets);
    }

    /** Number of Secrets cached. */
    public synchronized int size() {
        return entries.size();
    }
}
