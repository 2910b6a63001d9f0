package dev.sluice.gateway.access;

import java.util.Objects;

/**
 * How a protected location authenticates a request: HTTP basic or digest authentication against
 * the users of a Secret, or an external authentication service.
 */
public sealed interface Authentication permits Authentication.Basic, Authentication.Digest, ExternalAuth {

    /**
     * {@code auth-type: basic}: {@code Authorization: Basic …} checked against the Secret's users;
     * missing or wrong credentials answer 401 with {@code WWW-Authenticate: Basic realm="<realm>"}.
     *
     * @param realm {@code auth-realm} (ingress-nginx's default {@code ""})
     * @param users the Secret's users and password hashes
     */
    record Basic(String realm, PasswordFile users) implements Authentication {
        public Basic {
            Objects.requireNonNull(realm, "realm");
            Objects.requireNonNull(users, "users");
        }
    }

    /**
     * {@code auth-type: digest}: RFC 2617 digest authentication (MD5, {@code qop=auth}) against
     * the HA1 values of an htdigest Secret.
     *
     * @param credentials the realm and the users' HA1 values
     */
    record Digest(DigestCredentials credentials) implements Authentication {
        public Digest {
            Objects.requireNonNull(credentials, "credentials");
        }
    }
}
