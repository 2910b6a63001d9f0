package dev.sluice.gateway.access;

import com.google.re2j.Pattern;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * ingress-nginx's ConfigMap {@code block-cidrs}, {@code block-user-agents} and
 * {@code block-referers}: requests from these clients answer 403 on every host.
 *
 * <p>A user-agent or referer entry is an NGINX {@code map} key: {@code ~regex} (case-sensitive)
 * or {@code ~*regex} (case-insensitive) searched anywhere in the value, as re2j patterns compiled
 * once here; any other entry must equal the whole value, ignoring case.
 *
 * <p>Fail closed: lists that could not be read whole ({@link #unusable}) block every request with
 * 503, as a location whose access control cannot be honoured.
 */
public final class RequestBlocks {
    /** No blocks. */
    public static final RequestBlocks NONE = new RequestBlocks(null, List.of(), List.of());

    private final String unusable;
    private final SourceRanges addresses;
    private final List<String> userAgents;
    private final List<String> referers;
    private final ValueMatcher userAgentMatcher;
    private final ValueMatcher refererMatcher;

    /**
     * @param addresses  {@code block-cidrs}, or {@code null}
     * @param userAgents {@code block-user-agents} entries
     * @param referers   {@code block-referers} entries
     * @throws com.google.re2j.PatternSyntaxException for an entry that is not a valid re2j regex
     */
    public RequestBlocks(SourceRanges addresses, List<String> userAgents, List<String> referers) {
        this(null, addresses, userAgents, referers);
    }

    private RequestBlocks(String unusable, SourceRanges addresses, List<String> userAgents, List<String> referers) {
        this.unusable = unusable;
        this.addresses = addresses;
        this.userAgents = List.copyOf(userAgents);
        this.referers = List.copyOf(referers);
        this.userAgentMatcher = new ValueMatcher(this.userAgents);
        this.refererMatcher = new ValueMatcher(this.referers);
    }

    /** Compiles one entry, so a caller can report a bad one alone. */
    public static void check(String entry) {
        new ValueMatcher(List.of(entry));
    }

    /**
     * Block lists that could not be read: every request answers 503 until they are fixed.
     *
     * @param reason what is wrong, for logs (the entries are the operator's, not a secret)
     */
    public static RequestBlocks unusable(String reason) {
        return new RequestBlocks(Objects.requireNonNull(reason, "reason"), null, List.of(), List.of());
    }

    /** Why the lists could not be read, or {@code null} when they are in force. */
    public String unusable() {
        return unusable;
    }

    /** Whether nothing is blocked. */
    public boolean isEmpty() {
        return unusable == null && addresses == null && userAgents.isEmpty() && referers.isEmpty();
    }

    /**
     * Whether a request is blocked.
     *
     * @param clientAddress the client address (after the real-IP rules)
     * @param userAgent     the {@code User-Agent} header, or {@code null}
     * @param referer       the {@code Referer} header, or {@code null}
     */
    public boolean blocks(byte[] clientAddress, String userAgent, String referer) {
        return addresses != null && addresses.contains(clientAddress)
                || userAgentMatcher.matches(userAgent)
                || refererMatcher.matches(referer);
    }

    public SourceRanges addresses() {
        return addresses;
    }

    public List<String> userAgents() {
        return userAgents;
    }

    public List<String> referers() {
        return referers;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RequestBlocks b && Objects.equals(unusable, b.unusable)
                && Objects.equals(addresses, b.addresses)
                && userAgents.equals(b.userAgents) && referers.equals(b.referers);
    }

    @Override
    public int hashCode() {
        return Objects.hash(unusable, addresses, userAgents, referers);
    }

    @Override
    public String toString() {
        return "RequestBlocks[" + (unusable != null ? "unusable=" + unusable + ", " : "") + "addresses=" + addresses + ", userAgents=" + userAgents + ", referers=" + referers + "]";
    }

    /** Exact (case-insensitive) values and precompiled patterns. */
    private static final class ValueMatcher {
        private final List<String> exact = new ArrayList<>();
        private final List<Pattern> patterns = new ArrayList<>();

        ValueMatcher(List<String> entries) {
            for (String e : entries) {
                if (e.startsWith("~*")) {
                    patterns.add(Pattern.compile(e.substring(2), Pattern.CASE_INSENSITIVE));
                } else if (e.startsWith("~")) {
                    patterns.add(Pattern.compile(e.substring(1)));
                } else {
                    exact.add(e.toLowerCase(Locale.ROOT));
                }
            }
        }

        boolean matches(String value) {
            if (value == null) {
                return false;
            }
            for (int i = 0, n = exact.size(); i < n; i++) {
                if (exact.get(i).equalsIgnoreCase(value)) {
                    return true;
                }
            }
            for (int i = 0, n = patterns.size(); i < n; i++) {
                if (patterns.get(i).matcher(value).find()) {
                    return true;
                }
            }
            return false;
        }
    }
}
