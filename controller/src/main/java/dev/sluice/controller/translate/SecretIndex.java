package dev.sluice.controller.translate;

import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** The Secrets of a snapshot by {@code namespace/name}, with their values decoded. */
final class SecretIndex {
    private final Map<String, Secret> byKey = new HashMap<>();

    SecretIndex(Collection<Secret> secrets) {
        for (Secret s : secrets) {
            if (s.getMetadata() != null && s.getMetadata().getName() != null) {
                byKey.put(BackendResolver.namespace(s) + "/" + s.getMetadata().getName(), s);
            }
        }
    }

    /** {@code name} or {@code namespace/name}, as annotations name Secrets. */
    private static final java.util.regex.Pattern REFERENCE = java.util.regex.Pattern.compile(
            "^(?:([a-z0-9]([-a-z0-9]*[a-z0-9])?)/)?([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$");

    /**
     * A Secret named by an annotation, resolved.
     *
     * @param key     {@code namespace/name}, or {@code null} when the reference does not parse
     * @param secret  the Secret, or {@code null} (not found, or refused)
     * @param refused why the reference cannot be used (malformed, another namespace), or {@code null};
     *                {@code key != null && secret == null && refused == null} means "not found"
     */
    record Reference(String key, Secret secret, String refused) {}

    /**
     * Resolves an annotation's Secret reference for an Ingress in {@code namespace}: {@code name}
     * means the Ingress's namespace; another namespace is refused, as ingress-nginx's
     * {@code allow-cross-namespace-resources} default (false) does.
     */
    Reference resolve(String reference, String namespace) {
        java.util.regex.Matcher m = REFERENCE.matcher(reference.trim());
        if (!m.matches()) {
            return new Reference(null, null, "expected name or namespace/name");
        }
        String ns = m.group(1) == null ? namespace : m.group(1);
        String key = ns + "/" + m.group(3);
        if (!ns.equals(namespace)) {
            return new Reference(key, null, "Secrets of other namespaces are not allowed (the Ingress is in "
                    + namespace + ")");
        }
        return new Reference(key, byKey.get(key), null);
    }

    /** The Secret {@code namespace/name}, or {@code null}. */
    Secret get(String namespace, String name) {
        return byKey.get(namespace + "/" + name);
    }

    /**
     * A {@code data} entry (base64, as the API gives it), else a {@code stringData} entry
     * (manifest files), as UTF-8 text; {@code null} when absent, blank or not base64.
     */
    static String value(Secret s, String key) {
        String v = null;
        if (s.getData() != null && s.getData().get(key) != null) {
            try {
                v = new String(Base64.getMimeDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return null;
            }
        } else if (s.getStringData() != null) {
            v = s.getStringData().get(key);
        }
        return v == null || v.isBlank() ? null : v;
    }

    /** Every entry of {@code data} and {@code stringData}, decoded (a {@code data} key wins); keys sorted as given. */
    static Map<String, String> values(Secret s) {
        Map<String, String> out = new LinkedHashMap<>();
        if (s.getStringData() != null) {
            out.putAll(s.getStringData());
        }
        if (s.getData() != null) {
            for (String k : s.getData().keySet()) {
                String v = value(s, k);
                if (v != null) {
                    out.put(k, v);
                }
            }
        }
        return out;
    }
}
