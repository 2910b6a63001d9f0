package dev.sluice.gateway.access;

import java.util.Objects;

/**
 * Who may use a location: the access-control annotations of the Ingress that declared it
 * ({@code auth-*}, {@code *-source-range}, {@code limit-*}, {@code satisfy}), in the one form the
 * data plane accepts.
 *
 * <p>There are exactly three cases, so that "protected but unprotected" cannot be expressed:
 * <ul>
 *   <li>{@link Open}: the Ingress asked for no access control;</li>
 *   <li>{@link Denied}: it asked for access control that Sluice cannot honour (an invalid value, a
 *       missing or malformed Secret, an annotation Sluice does not implement): every request of the
 *       location answers 503, as ingress-nginx's "location denied";</li>
 *   <li>{@link Guarded}: every check it asked for, each one parsed and validated.</li>
 * </ul>
 * The controller builds policies in one place only; a location never falls back to {@link Open}
 * because something about its protection went wrong.
 */
public sealed interface AccessPolicy permits AccessPolicy.Open, AccessPolicy.Denied, AccessPolicy.Guarded {

    /** No access control. */
    AccessPolicy OPEN = new Open();

    /** No access control configured. */
    record Open() implements AccessPolicy {}

    /**
     * Access control configured but not honourable: the location answers 503.
     *
     * @param reason why, for {@code /routes} and logs (never a secret value)
     */
    record Denied(String reason) implements AccessPolicy {
        public Denied {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * The checks of a protected location, evaluated in NGINX's phase order (SPEC §0.1 step 6):
     * limits ({@code limit_conn}, then {@code limit_req}: 503), then the source lists ({@code deny}
     * before {@code allow}: 403), then authentication (401/403/500, or 302 to the sign-in page).
     *
     * @param deny           {@code denylist-source-range}: listed clients get 403, or {@code null}
     * @param allow          {@code allowlist-source-range} / {@code whitelist-source-range}: clients
     *                       not listed get 403, or {@code null} (everyone)
     * @param limits         {@code limit-*}, or {@code null}
     * @param authentication basic, digest or external authentication, or {@code null}
     * @param satisfyAny     {@code satisfy: any}: being admitted by the allowlist or passing the
     *                       authentication is enough (limits still apply; see {@link #sourceGrants})
     */
    record Guarded(SourceRanges deny, SourceRanges allow, RequestLimits limits, Authentication authentication,
            boolean satisfyAny) implements AccessPolicy {
        public Guarded {
            if (deny == null && allow == null && limits == null && authentication == null) {
                throw new IllegalArgumentException("a guarded location needs at least one check");
            }
        }

        /** Whether the client passes the source lists (no lists: yes). */
        public boolean sourceAllowed(byte[] clientAddress) {
            if (deny != null && deny.contains(clientAddress)) {
                return false;
            }
            return allow == null || allow.contains(clientAddress);
        }

        /**
         * Whether an allow rule admits the client, which is what lets a {@code satisfy: any} location
         * skip authentication. As NGINX's access module, a denylist alone never grants: a client it
         * does not list matches no rule, so authentication still decides. For example, with
         * {@code denylist-source-range: 10.0.0.0/8} and basic auth under {@code satisfy: any}, a
         * client at 192.0.2.1 without credentials gets 401, not the page.
         */
        public boolean sourceGrants(byte[] clientAddress) {
            return allow != null && sourceAllowed(clientAddress);
        }

        /** Whether this policy restricts clients by address. */
        public boolean hasSourceLists() {
            return deny != null || allow != null;
        }
    }
}
