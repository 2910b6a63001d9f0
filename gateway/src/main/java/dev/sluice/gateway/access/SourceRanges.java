package dev.sluice.gateway.access;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A list of IPv4 and IPv6 networks that client addresses are matched against: the value of
 * {@code allowlist-source-range}, {@code denylist-source-range} and {@code limit-allowlist}.
 *
 * <p>Syntax, as ingress-nginx accepts it: a comma-separated list of CIDRs or single addresses,
 * spaces ignored. {@code 10.0.0.0/8, 192.168.1.7} holds {@code 10.1.2.3} and {@code 192.168.1.7}
 * (a bare address is a /32 or /128); {@code 2001:db8::/32} holds {@code 2001:db8::1}; host bits
 * after the prefix are ignored ({@code 10.1.2.3/8} = {@code 10.0.0.0/8}). IPv4 ranges never
 * match IPv6 clients and vice versa (an IPv4-mapped IPv6 client such as {@code ::ffff:10.1.2.3}
 * counts as the IPv4 address {@code 10.1.2.3}). Host names are rejected: they are never looked up.
 */
public final class SourceRanges {
    private final String source;
    private final byte[][] networks;
    private final int[] prefixes;

    private SourceRanges(String source, List<byte[]> networks, List<Integer> prefixes) {
        this.source = source;
        this.networks = networks.toArray(new byte[0][]);
        this.prefixes = prefixes.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Parses a comma-separated list.
     *
     * @throws IllegalArgumentException for an empty list, an entry that is not an IP address or
     *                                  CIDR, or a prefix length out of range; the message names
     *                                  the entry
     */
    public static SourceRanges parse(String list) {
        if (list == null || list.isBlank()) {
            throw new IllegalArgumentException("empty list of source ranges");
        }
        List<byte[]> nets = new ArrayList<>();
        List<Integer> lens = new ArrayList<>();
        List<String> canonical = new ArrayList<>();
        for (String raw : list.split(",")) {
            String entry = raw.trim();
            if (entry.isEmpty()) {
                continue;
            }
            int slash = entry.indexOf('/');
            String addr = slash >= 0 ? entry.substring(0, slash) : entry;
            byte[] bytes = literal(addr);
            if (bytes == null) {
                throw new IllegalArgumentException("\"" + entry + "\" is not an IP address or CIDR");
            }
            int max = bytes.length * 8;
            int len = max;
            if (slash >= 0) {
                String bits = entry.substring(slash + 1);
                if (!bits.matches("\\d{1,3}") || Integer.parseInt(bits) > max) {
                    throw new IllegalArgumentException("\"" + entry + "\" has an invalid prefix length");
                }
                len = Integer.parseInt(bits);
            }
            nets.add(mask(bytes, len));
            lens.add(len);
            canonical.add(entry);
        }
        if (nets.isEmpty()) {
            throw new IllegalArgumentException("empty list of source ranges");
        }
        return new SourceRanges(String.join(",", canonical), nets, lens);
    }

    /** Whether {@code address} (4 or 16 bytes, as {@link InetAddress#getAddress()}) is in one of the ranges. */
    public boolean contains(byte[] address) {
        if (address == null) {
            return false;
        }
        for (int i = 0; i < networks.length; i++) {
            byte[] net = networks[i];
            if (net.length == address.length && matches(net, address, prefixes[i])) {
                return true;
            }
        }
        return false;
    }

    /** Whether the textual IP address {@code ip} is in one of the ranges ({@code false} for a non-address). */
    public boolean contains(String ip) {
        return contains(literal(ip));
    }

    /** The address bytes of an IP literal ({@code null} if it is not one); never a DNS lookup. */
    public static byte[] literal(String text) {
        if (text == null || text.isEmpty()) {
            return null;
        }
        if (text.indexOf(':') < 0) {
            return ipv4(text);
        }
        String t = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        if (!t.matches("[0-9A-Fa-f:.]+")) {
            return null; // zone ids and anything else a resolver might look up
        }
        try {
            return InetAddress.getByName(t).getAddress(); // a literal: parsed, not resolved; ::ffff:a.b.c.d → 4 bytes
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static byte[] ipv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            String p = parts[i];
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
                return null;
            }
            int v = Integer.parseInt(p);
            if (v > 255) {
                return null;
            }
            b[i] = (byte) v;
        }
        return b;
    }

    private static byte[] mask(byte[] addr, int len) {
        byte[] out = addr.clone();
        for (int bit = len; bit < out.length * 8; bit++) {
            out[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        return out;
    }

    private static boolean matches(byte[] net, byte[] addr, int len) {
        int full = len / 8;
        for (int i = 0; i < full; i++) {
            if (net[i] != addr[i]) {
                return false;
            }
        }
        int rest = len % 8;
        if (rest == 0) {
            return true;
        }
        int m = (0xff << (8 - rest)) & 0xff;
        return (net[full] & m) == (addr[full] & m);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SourceRanges s && Arrays.deepEquals(networks, s.networks)
                && Arrays.equals(prefixes, s.prefixes);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.deepHashCode(networks) + Arrays.hashCode(prefixes);
    }

    /** The list as given (entries trimmed), for {@code /routes} and logs. */
    @Override
    public String toString() {
        return source;
    }
}
