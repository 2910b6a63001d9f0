package dev.sluice.controller.translate;

import static dev.sluice.controller.translate.AnnotationKey.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.gateway.proxy.TestCertificates;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The annotation registry ({@link AnnotationKey}) against the documentation and against the
 * parsers: every declared key is documented in {@code docs/configuration.md} with the default
 * declared here and every documented key is declared; setting a key to its declared default changes
 * nothing; what is supported, what a canary reads and what belongs to the access-control family
 * all follow the registry.
 */
class AnnotationRegistryTest {
    static final Path CONFIGURATION_MD =
            Path.of(System.getProperty("basedir", ".")).resolve("../docs/configuration.md").normalize();
    private static final String P = TranslatorConfig.DEFAULT_ANNOTATIONS_PREFIX + "/";
    private static final Pattern CODE = Pattern.compile("`([^`]+)`");

    // --- the documentation ---

    @Test
    void everyDeclaredKeyIsDocumentedAndEveryDocumentedKeyIsDeclared() throws IOException {
        Map<String, String> documented = documentedDefaults(Files.readAllLines(CONFIGURATION_MD));
        Set<String> declared = Arrays.stream(values()).map(AnnotationKey::suffix)
                .collect(Collectors.toCollection(TreeSet::new));

        assertThat(declared).as("declared in AnnotationKey but not in a table of docs/configuration.md")
                .isSubsetOf(documented.keySet());
        assertThat(documented.keySet()).as("documented in docs/configuration.md but not declared in AnnotationKey")
                .isSubsetOf(declared);
    }

    @Test
    void theDocumentedDefaultIsTheDeclaredOne() throws IOException {
        Map<String, String> documented = documentedDefaults(Files.readAllLines(CONFIGURATION_MD));
        Map<String, String> mismatches = new TreeMap<>();
        for (AnnotationKey k : values()) {
            String cell = documented.get(k.suffix());
            if (cell != null && !normalizedDefault(cell).equals(normalizedDefault(k.docDefault()))) {
                mismatches.put(k.suffix(), "docs: " + cell + ", registry: " + k.docDefault());
            }
        }
        assertThat(mismatches).isEmpty();
    }

    @Test
    void theTableParserReadsAliasesListsAndProse() {
        Map<String, String> rows = documentedDefaults(List.of(
                "| annotation | default | meaning |",
                "|---|---|---|",
                "| `a` (alias `b`) | — | x \\| y |",
                "| `c` / `d` | `1` (s) | z |",
                "",
                "| flag | default | meaning |",
                "| `--e` | `2` | not an annotation |"));
        assertThat(rows).containsExactly(Map.entry("a", "—"), Map.entry("b", "—"), Map.entry("c", "`1` (s)"),
                Map.entry("d", "`1` (s)"));
        assertThat(normalizedDefault("—")).isEqualTo("none");
        assertThat(normalizedDefault("`\"\"`")).isEqualTo("value:");
        assertThat(normalizedDefault(" `x` ")).isEqualTo("value:x");
        assertThat(normalizedDefault("`5` (s)")).isEqualTo("prose:`5` (s)");
    }

    /**
     * The annotation tables of {@code docs/configuration.md} (header {@code | annotation | default
     * | meaning |}): each key in backticks in the first cell (aliases included) → the default cell.
     */
    static Map<String, String> documentedDefaults(List<String> lines) {
        Map<String, String> defaults = new LinkedHashMap<>();
        boolean inTable = false;
        for (String line : lines) {
            if (!line.startsWith("|")) {
                inTable = false;
                continue;
            }
            List<String> cells = cells(line);
            if (cells.size() >= 3 && cells.get(0).equals("annotation") && cells.get(1).equals("default")) {
                inTable = true;
                continue;
            }
            if (!inTable || cells.get(0).startsWith("---")) {
                continue;
            }
            Matcher m = CODE.matcher(cells.get(0));
            while (m.find()) {
                String previous = defaults.put(m.group(1), cells.get(1));
                assertThat(previous).as("documented twice: " + m.group(1)).isNull();
            }
        }
        return defaults;
    }

    /** The cells of a Markdown table row; {@code \|} is a pipe inside a cell. */
    private static List<String> cells(String row) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        for (int i = 1; i < row.length(); i++) {
            char c = row.charAt(i);
            if (c == '\\' && i + 1 < row.length() && row.charAt(i + 1) == '|') {
                cell.append('|');
                i++;
            } else if (c == '|') {
                cells.add(cell.toString().trim());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        return cells;
    }

    /**
     * A default cell in one spelling: {@code none} for {@code —}, {@code value:x} for {@code `x`}
     * ({@code `""`} is the empty string), {@code prose:…} for anything else.
     */
    private static String normalizedDefault(String cell) {
        String c = cell.trim().replaceAll("\\s+", " ");
        if (c.equals("—") || c.equals("-") || c.isEmpty()) {
            return "none";
        }
        Matcher m = Pattern.compile("^`([^`]*)`$").matcher(c);
        if (m.matches()) {
            return "value:" + (m.group(1).equals("\"\"") ? "" : m.group(1));
        }
        return "prose:" + c;
    }

    // --- the registry itself ---

    @Test
    void theAccessControlScopeIsExactlyTheDeclaredKeysOfTheFailClosedFamilies() {
        for (AnnotationKey k : values()) {
            assertThat(AnnotationKey.inAccessControlFamily(k.suffix())).as(k.suffix())
                    .isEqualTo(k.scope() == Scope.ACCESS_CONTROL);
        }
        assertThat(AccessControl.KEYS).hasSize((int) Arrays.stream(values())
                .filter(k -> k.scope() == Scope.ACCESS_CONTROL).count());
    }

    @Test
    void aCanaryReadsItsPolicyAndItsOwnBalancingOnly() {
        // SPEC §5.1: the rest of a canary's annotations come from the mainline location
        Set<AnnotationKey> read = EnumSet.noneOf(AnnotationKey.class);
        Arrays.stream(values()).filter(AnnotationKey::readOnCanary).forEach(read::add);
        assertThat(read).containsExactlyInAnyOrder(CANARY, CANARY_BY_HEADER, CANARY_BY_HEADER_VALUE,
                CANARY_BY_HEADER_PATTERN, CANARY_BY_COOKIE, CANARY_WEIGHT, CANARY_WEIGHT_TOTAL, LOAD_BALANCE,
                UPSTREAM_HASH_BY, UPSTREAM_HASH_BY_SUBSET, UPSTREAM_HASH_BY_SUBSET_SIZE, AFFINITY_CANARY_BEHAVIOR,
                SERVICE_UPSTREAM);
    }

    @Test
    void everyDeclaredDefaultIsAValueOfItsType() {
        for (AnnotationKey k : values()) {
            String d = k.defaultValue();
            if (d == null) {
                continue;
            }
            switch (k.type()) {
                case BOOL -> assertThat(AnnotationValues.bool(d)).as(k.suffix()).isNotNull();
                case INT -> assertThat(AnnotationValues.integer(d, 0)).as(k.suffix()).isNotNull();
                case DURATION -> assertThat(Durations.parse(d)).as(k.suffix()).isPositive();
                case SIZE -> assertThat(d).as(k.suffix()).matches("\\d+[kKmMgG]?");
                default -> { }
            }
            assertThat(k.suffix()).doesNotEndWith("-snippet");
        }
    }

    // --- the parsers follow the registry ---

    @Test
    void aKeyThatIsNotDeclaredIsReportedAsNotSupportedUnlessItIsAccessControl() {
        List<String> problems = new ArrayList<>();
        IngressAnnotations a = IngressAnnotations.parse(ingress(Map.of("use-regex", "true", "proxy-max-temp-file-size", "0",
                "limit-whatever", "1", "server-snippet", "x")), TranslatorConfig.DEFAULT_ANNOTATIONS_PREFIX,
                problems::add);

        assertThat(a.useRegex()).isTrue();
        assertThat(problems).contains("snippet annotations are not supported, ever (ignored): " + P + "server-snippet",
                "annotations not supported, ignored: " + P + "proxy-max-temp-file-size");
        // the undeclared limit-whatever is not merely ignored: it denies (AccessControlTranslationTest)
        assertThat(a.routeOptions().access()).isInstanceOf(dev.sluice.gateway.access.AccessPolicy.Denied.class);
    }

    @Test
    void aCanaryIngressIgnoresExactlyTheKeysItDoesNotRead() {
        Map<String, String> all = new TreeMap<>();
        for (AnnotationKey k : values()) {
            all.put(k.suffix(), k.defaultValue() != null ? k.defaultValue() : "x");
        }
        all.put(CANARY.suffix(), "true");
        all.put(UPSTREAM_HASH_BY.suffix(), "$request_uri");
        List<String> problems = new ArrayList<>();
        IngressAnnotations.parse(ingress(all), TranslatorConfig.DEFAULT_ANNOTATIONS_PREFIX, problems::add);

        String head = "annotations of a canary Ingress are ignored, the mainline location's apply: ";
        assertThat(problems).singleElement().asString().startsWith(head);
        Set<String> ignored = Set.of(problems.get(0).substring(head.length()).split(", "));
        Set<String> notRead = Arrays.stream(values()).filter(k -> !k.readOnCanary()).map(k -> P + k.suffix())
                .collect(Collectors.toSet());
        assertThat(ignored).isEqualTo(notRead);
    }

    /** Annotations a key needs beside it to have any effect (a cookie setting needs affinity …). */
    private static final Map<AnnotationKey, Map<String, String>> CONTEXT = contexts();

    private static Map<AnnotationKey, Map<String, String>> contexts() {
        Map<AnnotationKey, Map<String, String>> c = new LinkedHashMap<>();
        for (AnnotationKey k : values()) {
            String s = k.suffix();
            if (s.startsWith("cors-")) {
                c.put(k, Map.of("enable-cors", "true"));
            } else if (s.startsWith("session-cookie-") || k == AFFINITY_MODE) {
                c.put(k, Map.of("affinity", "cookie"));
            } else if (k.readOnCanary() && k != CANARY && k.scope() != Scope.UPSTREAM) {
                c.put(k, Map.of("canary", "true"));
            } else if (s.startsWith("auth-tls-")) {
                c.put(k, Map.of("auth-tls-secret", "client-ca"));
            } else if (s.startsWith("auth-") && k != AUTH_SECRET_TYPE && k != AUTH_REALM) {
                c.put(k, Map.of("auth-url", "http://127.0.0.1:9/auth", "auth-cache-key", "$remote_addr"));
            } else if (s.startsWith("limit-")) {
                c.put(k, Map.of("limit-rps", "1", "limit-rate", "10"));
            }
        }
        c.put(AUTH_SECRET_TYPE, Map.of("auth-type", "basic", "auth-secret", "basic-auth"));
        c.put(AUTH_REALM, Map.of("auth-type", "basic", "auth-secret", "basic-auth"));
        c.put(SATISFY, Map.of("allowlist-source-range", "10.0.0.0/8", "auth-type", "basic", "auth-secret",
                "basic-auth"));
        c.put(PERMANENT_REDIRECT_CODE, Map.of("permanent-redirect", "https://example.test/"));
        c.put(TEMPORAL_REDIRECT_CODE, Map.of("temporal-redirect", "https://example.test/"));
        c.put(UPSTREAM_HASH_BY_SUBSET, Map.of("upstream-hash-by", "$request_uri"));
        c.put(UPSTREAM_HASH_BY_SUBSET_SIZE, Map.of("upstream-hash-by", "$request_uri",
                "upstream-hash-by-subset", "true"));
        c.put(AFFINITY_CANARY_BEHAVIOR, Map.of("canary", "true"));
        // proxy-ssl-* mean something (and are not reported as without effect) only with TLS upstreams
        for (AnnotationKey k : List.of(PROXY_SSL_VERIFY, PROXY_SSL_VERIFY_DEPTH, PROXY_SSL_SERVER_NAME,
                PROXY_SSL_PROTOCOLS, PROXY_SSL_CIPHERS)) {
            c.put(k, Map.of("backend-protocol", "HTTPS"));
        }
        return c;
    }

    /**
     * Keys whose declared default the parsed model spells differently from "not set", with the
     * reason; everything else must parse to exactly the same result.
     */
    private static final Map<AnnotationKey, String> SPELLED_DIFFERENTLY = Map.of(
            AUTH_METHOD, "ExternalAuth keeps null for \"not set\" and sends GET for it");

    @Test
    void settingAKeyToItsDeclaredDefaultChangesNothing() {
        SecretIndex secrets = new SecretIndex(List.of(
                secret("basic-auth", Map.of("auth", "alice:{PLAIN}secret\n")),
                secret("client-ca", Map.of("ca.crt", TestCertificates.issue("client-ca").certificatePem()))));
        List<String> checked = new ArrayList<>();
        for (AnnotationKey k : values()) {
            if (k.defaultValue() == null || SPELLED_DIFFERENTLY.containsKey(k)) {
                continue;
            }
            Map<String, String> context = CONTEXT.getOrDefault(k, Map.of());
            Map<String, String> explicit = new TreeMap<>(context);
            explicit.put(k.suffix(), k.defaultValue());

            List<String> problems = new ArrayList<>();
            IngressAnnotations unset = IngressAnnotations.parse(ingress(context),
                    TranslatorConfig.DEFAULT_ANNOTATIONS_PREFIX, secrets, problems::add);
            IngressAnnotations set = IngressAnnotations.parse(ingress(explicit),
                    TranslatorConfig.DEFAULT_ANNOTATIONS_PREFIX, secrets, problems::add);

            assertThat(problems).as(k.suffix() + " with " + context).isEmpty();
            assertThat(settings(set)).as(k.suffix() + ": " + k.defaultValue() + " with " + context)
                    .isEqualTo(settings(unset));
            checked.add(k.suffix());
        }
        assertThat(checked).hasSizeGreaterThan(40);
    }

    /** What the annotations configure: all but {@code canaryConfigured}, which records presence. */
    private static IngressAnnotations settings(IngressAnnotations a) {
        return new IngressAnnotations(a.canary(), false, a.useRegex(), a.rewriteTarget(), a.xForwardedPrefix(),
                a.appRoot(), a.routeOptions(), a.balancer(), a.canaryRule(), a.affinityCanaryBehavior(),
                a.fromToWwwRedirect(), a.clientAuth(), a.sslPassthrough(), a.serviceUpstream(),
                a.sslCiphers());
    }

    private static Ingress ingress(Map<String, String> annotations) {
        Map<String, String> prefixed = new TreeMap<>();
        annotations.forEach((k, v) -> prefixed.put(P + k, v));
        return new IngressBuilder().withNewMetadata().withNamespace("default").withName("registry")
                .withAnnotations(prefixed).endMetadata().withNewSpec().endSpec().build();
    }

    private static Secret secret(String name, Map<String, String> plain) {
        Map<String, String> data = new LinkedHashMap<>();
        plain.forEach((k, v) -> data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
        return new SecretBuilder().withNewMetadata().withNamespace("default").withName(name).endMetadata()
                .withType("Opaque").withData(data).build();
    }
}
