package dev.sluice.gateway.access;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.commons.codec.digest.DigestUtils;

/**
 * The runtime half of HTTP digest authentication (RFC 2617, {@code qop=auth}, MD5) as nginx's
 * {@code auth_digest} module does it for ingress-nginx's {@code auth-type: digest}: issues
 * challenges and checks {@code Authorization: Digest …} answers against {@link DigestCredentials}.
 *
 * <p>Nonces are stateless: each carries its issue time and a per-process sequence number, signed
 * with HMAC-SHA256 under a key drawn from {@link SecureRandom} when this object is made, so a
 * nonce cannot be forged or moved to another realm, and needs no table to be checked. A nonce
 * lives {@link #NONCE_LIFETIME_MILLIS}; an otherwise correct answer with an older one is
 * {@link Result#STALE}, which the caller answers with a fresh challenge marked {@code stale=true}
 * so that the client retries without asking its user again.
 *
 * <p>Replay protection: the nonce count ({@code nc}) must increase for each nonce. The highest one
 * seen is kept per nonce in a bounded cache, filled only by answers whose response was correct
 * (so an unauthenticated client cannot flood it) and expiring after twice the nonce lifetime
 * (after which the nonce is stale anyway).
 *
 * <p>One instance per process, owned by the data plane; thread-safe. Every method takes the
 * current time as {@code nowMillis} so that tests can drive the clock.
 */
public final class DigestNonces {
    /** How long a nonce is accepted after it was issued. */
    public static final long NONCE_LIFETIME_MILLIS = 60_000;
    /** How many nonces the replay cache remembers at most. */
    public static final int MAX_TRACKED_NONCES = 100_000;

    private static final int PAYLOAD_LENGTH = 16; // issue time + sequence number
    private static final int MAC_LENGTH = 16;     // HMAC-SHA256 truncated to 128 bits
    private static final String HMAC = "HmacSHA256";
    // hashed for an unknown user so that it costs the same as a wrong password
    private static final String DUMMY_HA1 = "00000000000000000000000000000000";

    private final SecretKeySpec key;
    private final ThreadLocal<Mac> macs; // Mac is not thread-safe
    private final String opaque;
    private final AtomicLong sequence = new AtomicLong();
    private final Cache<String, AtomicLong> highestNonceCount = Caffeine.newBuilder()
            .maximumSize(MAX_TRACKED_NONCES)
            .expireAfterWrite(Duration.ofMillis(2 * NONCE_LIFETIME_MILLIS))
            .build();

    /** The outcome of {@link #verify}. */
    public enum Result {
        /** The answer is correct, fresh and not replayed. */
        OK,
        /** No digest answer, a malformed one, a wrong one, or a replayed one: challenge again. */
        MISSING_OR_INVALID,
        /** A correct answer with an expired nonce: challenge again with {@code stale=true}. */
        STALE
    }

    /** Uses a fresh random 256-bit key: nonces of another process (or an earlier run) are invalid here. */
    public DigestNonces() {
        this(randomKey());
    }

    /** Uses the given HMAC key (tests; or replicas that must accept each other's nonces). */
    public DigestNonces(byte[] key) {
        if (key.length < 16) {
            throw new IllegalArgumentException("the nonce key must have at least 128 bits");
        }
        this.key = new SecretKeySpec(key.clone(), HMAC);
        this.macs = ThreadLocal.withInitial(this::newMac);
        this.opaque = HexFormat.of().formatHex(mac("opaque".getBytes(StandardCharsets.US_ASCII)), 0, MAC_LENGTH);
    }

    /**
     * The {@code WWW-Authenticate} value that challenges a client:
     * {@code Digest realm="…", qop="auth", algorithm=MD5, nonce="…", opaque="…"}, followed by
     * {@code , stale=true} when {@code stale}.
     *
     * @throws IllegalArgumentException if the realm contains a control character
     */
    public String challenge(String realm, boolean stale, long nowMillis) {
        if (realm.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException("realm contains a control character");
        }
        String value = "Digest realm=" + quote(realm)
                + ", qop=\"auth\", algorithm=MD5, nonce=\"" + newNonce(realm, nowMillis)
                + "\", opaque=\"" + opaque + "\"";
        return stale ? value + ", stale=true" : value;
    }

    /**
     * Checks an {@code Authorization} header value against {@code creds} for a request with the
     * given method and request-target (as sent, with its query).
     *
     * <p>Required: {@code username}, {@code realm} (equal to the location's), {@code nonce} (issued
     * by this object for that realm), {@code uri} (equal to {@code requestUri}), {@code qop=auth},
     * {@code nc} (8 hex digits, higher than any earlier one of the nonce), {@code cnonce} and
     * {@code response} = {@code md5hex(HA1:nonce:nc:cnonce:qop:md5hex(method:uri))}. An
     * {@code algorithm} other than {@code MD5} is refused; {@code opaque} is not checked.
     */
    public Result verify(DigestCredentials creds, String authorizationHeaderValue, String method, String requestUri,
            long nowMillis) {
        Map<String, String> params = parseHeader(authorizationHeaderValue);
        if (params == null) {
            return Result.MISSING_OR_INVALID;
        }
        String username = params.get("username");
        String realm = params.get("realm");
        String nonce = params.get("nonce");
        String uri = params.get("uri");
        String qop = params.get("qop");
        String nc = params.get("nc");
        String cnonce = params.get("cnonce");
        String response = params.get("response");
        String algorithm = params.get("algorithm");
        if (username == null || nonce == null || uri == null || nc == null || cnonce == null || response == null
                || !creds.realm().equals(realm)
                || !"auth".equals(qop)
                || algorithm != null && !algorithm.equalsIgnoreCase("MD5")
                || !uri.equals(requestUri)) {
            return Result.MISSING_OR_INVALID;
        }
        long nonceCount = parseNonceCount(nc);
        long issuedMillis = nonceIssueTime(realm, nonce);
        if (nonceCount <= 0 || issuedMillis < 0) {
            return Result.MISSING_OR_INVALID;
        }
        String ha1 = creds.ha1(username);
        String expected = response(ha1 != null ? ha1 : DUMMY_HA1, nonce, nc, cnonce, qop, method, uri);
        boolean correct = MessageDigest.isEqual(
                expected.getBytes(StandardCharsets.US_ASCII),
                response.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
        if (ha1 == null || !correct) {
            return Result.MISSING_OR_INVALID;
        }
        long age = nowMillis - issuedMillis;
        // a nonce "from the future" only appears after the clock was set back; bound it all the same
        if (age > NONCE_LIFETIME_MILLIS || age < -NONCE_LIFETIME_MILLIS) {
            return Result.STALE;
        }
        AtomicLong highest = highestNonceCount.get(nonce, n -> new AtomicLong());
        for (long seen = highest.get(); nonceCount > seen; seen = highest.get()) {
            if (highest.compareAndSet(seen, nonceCount)) {
                return Result.OK;
            }
        }
        return Result.MISSING_OR_INVALID;
    }

    /** RFC 2617 §3.2.2.1 with {@code qop=auth}: {@code md5hex(HA1:nonce:nc:cnonce:qop:md5hex(method:uri))}. */
    static String response(String ha1, String nonce, String nc, String cnonce, String qop, String method,
            String uri) {
        String ha2 = DigestUtils.md5Hex(method + ":" + uri);
        return DigestUtils.md5Hex(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + ha2);
    }

    /**
     * The parameters of a {@code Digest} credentials header, names lower-cased, quoted values
     * unescaped; {@code null} when the value is absent, of another scheme, or malformed
     * (including a parameter given twice, which would make the answer ambiguous).
     */
    static Map<String, String> parseHeader(String value) {
        if (value == null || value.length() < 7 || !value.regionMatches(true, 0, "Digest", 0, 6)
                || !isSpace(value.charAt(6))) {
            return null;
        }
        Map<String, String> params = new HashMap<>();
        int i = 7;
        int n = value.length();
        while (true) {
            while (i < n && (isSpace(value.charAt(i)) || value.charAt(i) == ',')) {
                i++;
            }
            if (i == n) {
                return params;
            }
            int nameStart = i;
            while (i < n && value.charAt(i) != '=' && value.charAt(i) != ',' && !isSpace(value.charAt(i))) {
                i++;
            }
            String name = value.substring(nameStart, i).toLowerCase(Locale.ROOT);
            i = skipSpace(value, i);
            if (name.isEmpty() || i == n || value.charAt(i) != '=') {
                return null;
            }
            i = skipSpace(value, i + 1);
            String paramValue;
            if (i < n && value.charAt(i) == '"') {
                StringBuilder quoted = new StringBuilder();
                i++;
                while (i < n && value.charAt(i) != '"') {
                    if (value.charAt(i) == '\\' && i + 1 < n) {
                        i++;
                    }
                    quoted.append(value.charAt(i++));
                }
                if (i == n) {
                    return null; // unterminated quoted string
                }
                i++;
                paramValue = quoted.toString();
            } else {
                int valueStart = i;
                while (i < n && value.charAt(i) != ',' && !isSpace(value.charAt(i))) {
                    i++;
                }
                paramValue = value.substring(valueStart, i);
            }
            i = skipSpace(value, i);
            if (i < n && value.charAt(i) != ',') {
                return null;
            }
            if (params.putIfAbsent(name, paramValue) != null) {
                return null;
            }
        }
    }

    private String newNonce(String realm, long nowMillis) {
        ByteBuffer nonce = ByteBuffer.allocate(PAYLOAD_LENGTH + MAC_LENGTH);
        nonce.putLong(nowMillis).putLong(sequence.incrementAndGet());
        nonce.put(nonceMac(realm, nonce.array()), 0, MAC_LENGTH);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(nonce.array());
    }

    /** The nonce's issue time, or -1 when it was not issued by this object for {@code realm}. */
    private long nonceIssueTime(String realm, String nonce) {
        byte[] bytes;
        try {
            bytes = Base64.getUrlDecoder().decode(nonce);
        } catch (IllegalArgumentException e) {
            return -1;
        }
        if (bytes.length != PAYLOAD_LENGTH + MAC_LENGTH) {
            return -1;
        }
        byte[] mac = Arrays.copyOf(nonceMac(realm, bytes), MAC_LENGTH);
        if (!MessageDigest.isEqual(mac, Arrays.copyOfRange(bytes, PAYLOAD_LENGTH, bytes.length))) {
            return -1;
        }
        long issued = ByteBuffer.wrap(bytes).getLong();
        return issued < 0 ? -1 : issued;
    }

    // over realm, a separator no realm contains, and the payload (the first PAYLOAD_LENGTH bytes)
    private byte[] nonceMac(String realm, byte[] nonce) {
        Mac mac = macs.get();
        mac.update(realm.getBytes(StandardCharsets.UTF_8));
        mac.update((byte) 0);
        mac.update(nonce, 0, PAYLOAD_LENGTH);
        return mac.doFinal();
    }

    private byte[] mac(byte[] data) {
        return macs.get().doFinal(data);
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every Java runtime has " + HMAC, e);
        }
    }

    /** {@code nc}: exactly 8 hex digits (RFC 2617 {@code 8LHEX}), or -1. */
    private static long parseNonceCount(String nc) {
        if (nc.length() != 8) {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < 8; i++) {
            char c = nc.charAt(i);
            int digit = c >= '0' && c <= '9' ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                    : -1;
            if (digit < 0) {
                return -1;
            }
            value = value << 4 | digit;
        }
        return value;
    }

    private static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t';
    }

    private static int skipSpace(String s, int i) {
        while (i < s.length() && isSpace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static byte[] randomKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return key;
    }
}
