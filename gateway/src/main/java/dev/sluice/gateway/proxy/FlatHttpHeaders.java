package dev.sluice.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.DefaultHeaders.NameValidator;
import io.netty.handler.codec.DefaultHeaders.ValueValidator;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.AsciiString;
import io.netty.util.CharsetUtil;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Collections;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.Function;

/**
 * HTTP headers kept as one flat array of names and values in arrival order: what a proxied
 * message's headers need, at a fraction of the cost of Netty's hash table. A request or response
 * carries a dozen headers at most, which are added once, looked up a few times by name and then
 * written out in order; Netty's {@code DefaultHttpHeaders} spends a hash per name, a bucket array
 * and an entry object per header on that, ~1 KB per proxied request here. A look-up is a linear
 * scan comparing names without regard to case, as HTTP names compare:
 *
 * <pre>{@code
 * HttpHeaders h = FlatHttpHeaders.VALIDATED.newHeaders();
 * h.add("Accept", "text/html").add("accept", "*\/*");
 * h.getAll(HttpHeaderNames.ACCEPT);  // ["text/html", "*\/*"]
 * h.set("ACCEPT", "a/b");            // replaces both, now last in the order
 * }</pre>
 *
 * <p>Names and values are checked exactly as by Netty's default headers (the same validators):
 * {@link #VALIDATED} for what a peer sent (a decoder's headers), {@link #UNVALIDATED} for headers
 * built from values that were checked already. Values are stored as given ({@code CharSequence}s,
 * not copied); other objects as Netty converts them (dates in HTTP date format, anything else by
 * {@code toString()}).
 *
 * <p>Not thread-safe, as Netty's headers: confined to the channel's event loop. No
 * {@code equals}/{@code hashCode}: nothing compares headers objects.
 */
final class FlatHttpHeaders extends HttpHeaders {
    /** Headers that check names and values as {@code DefaultHttpHeadersFactory.headersFactory()}. */
    static final HttpHeadersFactory VALIDATED = factory(DefaultHttpHeadersFactory.headersFactory());
    /**
     * A decoded message's trailers, checked as Netty's trailers (framing and routing names are
     * refused). A body that ends by its {@code Content-Length} gets a trailers object nobody writes
     * to; this one holds no array until a trailer section fills it.
     */
    static final HttpHeadersFactory TRAILERS = factory(DefaultHttpHeadersFactory.trailersFactory());
    /** Headers that check nothing, for values built or checked by the proxy itself. */
    static final HttpHeadersFactory UNVALIDATED = factory(DefaultHttpHeadersFactory.headersFactory().withValidation(false));

    /** The entries of {@link #EMPTY}: growing them is refused (declared first: EMPTY's initialiser reads it). */
    private static final CharSequence[] READ_ONLY = new CharSequence[0];

    /**
     * Empty headers that refuse every addition ({@code UnsupportedOperationException}), shared:
     * the trailers of a body that cannot have any. One class for all headers keeps the hot call
     * sites of Netty's codecs monomorphic (Netty's own {@code EmptyHttpHeaders} would add a type).
     */
    static final HttpHeaders EMPTY = readOnlyEmpty();

    /** Room for a typical request or response head without growing. */
    private static final int INITIAL_PAIRS = 6;

    private final NameValidator<CharSequence> nameValidator;
    private final ValueValidator<CharSequence> valueValidator;
    /** name0, value0, name1, value1, ...; null until the first add. */
    private CharSequence[] entries;
    private int size; // pairs

    private FlatHttpHeaders(NameValidator<CharSequence> nameValidator, ValueValidator<CharSequence> valueValidator) {
        this.nameValidator = nameValidator;
        this.valueValidator = valueValidator;
    }

    /** Unvalidated headers with room for {@code pairs} headers before they grow. */
    static HttpHeaders unvalidated(int pairs) {
        FlatHttpHeaders h = (FlatHttpHeaders) UNVALIDATED.newHeaders();
        h.entries = new CharSequence[Math.max(1, pairs) << 1];
        return h;
    }

    private static HttpHeaders readOnlyEmpty() {
        FlatHttpHeaders h = (FlatHttpHeaders) UNVALIDATED.newHeaders();
        h.entries = READ_ONLY;
        return h;
    }

    private static HttpHeadersFactory factory(DefaultHttpHeadersFactory checks) {
        NameValidator<CharSequence> names = checks.getNameValidator();
        ValueValidator<CharSequence> values = checks.getValueValidator();
        return new HttpHeadersFactory() {
            @Override
            public HttpHeaders newHeaders() {
                return new FlatHttpHeaders(names, values);
            }

            @Override
            public HttpHeaders newEmptyHeaders() {
                return new FlatHttpHeaders(names, values);
            }
        };
    }

    // ---- look-ups

    private int indexOf(CharSequence name, int fromPair) {
        CharSequence[] e = entries;
        for (int i = fromPair; i < size; i++) {
            if (AsciiString.contentEqualsIgnoreCase(e[i << 1], name)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public String get(String name) {
        return get((CharSequence) name);
    }

    @Override
    public String get(CharSequence name) {
        int i = indexOf(name, 0);
        return i < 0 ? null : entries[(i << 1) + 1].toString();
    }

    @Override
    public String get(CharSequence name, String defaultValue) {
        String v = get(name);
        return v != null ? v : defaultValue;
    }

    /** The first value of {@code name} parsed, or null when absent or unparsable (as Netty's headers). */
    private <T> T parsed(CharSequence name, Function<String, T> parse) {
        String v = get(name);
        if (v == null) {
            return null;
        }
        try {
            return parse.apply(v);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public Integer getInt(CharSequence name) {
        return parsed(name, Integer::valueOf);
    }

    @Override
    public int getInt(CharSequence name, int defaultValue) {
        Integer v = getInt(name);
        return v != null ? v : defaultValue;
    }

    @Override
    public Short getShort(CharSequence name) {
        return parsed(name, Short::valueOf);
    }

    @Override
    public short getShort(CharSequence name, short defaultValue) {
        Short v = getShort(name);
        return v != null ? v : defaultValue;
    }

    @Override
    public Long getTimeMillis(CharSequence name) {
        String v = get(name);
        if (v == null) {
            return null;
        }
        Date d = DateFormatter.parseHttpDate(v);
        return d != null ? d.getTime() : null;
    }

    @Override
    public long getTimeMillis(CharSequence name, long defaultValue) {
        Long v = getTimeMillis(name);
        return v != null ? v : defaultValue;
    }

    @Override
    public List<String> getAll(String name) {
        return getAll((CharSequence) name);
    }

    @Override
    public List<String> getAll(CharSequence name) {
        int i = indexOf(name, 0);
        if (i < 0) {
            return Collections.emptyList();
        }
        int next = indexOf(name, i + 1);
        if (next < 0) {
            // the usual case (Netty's decoder asks for every Content-Length): no list to grow
            return Collections.singletonList(entries[(i << 1) + 1].toString());
        }
        List<String> values = new ArrayList<>(2);
        for (; i >= 0; i = indexOf(name, i + 1)) {
            values.add(entries[(i << 1) + 1].toString());
        }
        return values;
    }

    @Override
    public Iterator<String> valueStringIterator(CharSequence name) {
        return getAll(name).iterator();
    }

    @Override
    public Iterator<? extends CharSequence> valueCharSequenceIterator(CharSequence name) {
        List<CharSequence> values = new ArrayList<>(2);
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            values.add(entries[(i << 1) + 1]);
        }
        return values.iterator();
    }

    @Override
    public List<Map.Entry<String, String>> entries() {
        List<Map.Entry<String, String>> list = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            list.add(new AbstractMap.SimpleImmutableEntry<>(entries[i << 1].toString(), entries[(i << 1) + 1].toString()));
        }
        return list;
    }

    @Override
    public boolean contains(String name) {
        return indexOf(name, 0) >= 0;
    }

    @Override
    public boolean contains(CharSequence name) {
        return indexOf(name, 0) >= 0;
    }

    @Override
    public boolean contains(String name, String value, boolean ignoreCase) {
        return contains((CharSequence) name, value, ignoreCase);
    }

    @Override
    public boolean contains(CharSequence name, CharSequence value, boolean ignoreCase) {
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            CharSequence v = entries[(i << 1) + 1];
            if (ignoreCase ? AsciiString.contentEqualsIgnoreCase(v, value) : AsciiString.contentEquals(v, value)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether one of the comma-separated, trimmed elements of {@code name}'s values is {@code value},
     * as Netty's {@code containsValue} (e.g. {@code Transfer-Encoding: gzip, chunked} contains
     * {@code chunked}), without the iterator and list Netty's default builds on every call.
     */
    @Override
    public boolean containsValue(CharSequence name, CharSequence value, boolean ignoreCase) {
        for (int i = indexOf(name, 0); i >= 0; i = indexOf(name, i + 1)) {
            CharSequence v = entries[(i << 1) + 1];
            int n = v.length();
            int begin = 0;
            while (true) {
                int end = AsciiString.indexOf(v, ',', begin);
                if (end < 0 && begin > 0 && begin == n) {
                    break; // as Netty: nothing after a final comma is an element
                }
                int e = end < 0 ? n : end;
                int s = begin;
                while (s < e && v.charAt(s) <= ' ') {
                    s++;
                }
                while (e > s && v.charAt(e - 1) <= ' ') {
                    e--;
                }
                if (e - s == value.length() && AsciiString.regionMatches(v, ignoreCase, s, value, 0, e - s)) {
                    return true;
                }
                if (end < 0) {
                    break;
                }
                begin = end + 1;
            }
        }
        return false;
    }

    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        return entries().iterator();
    }

    @Override
    public Iterator<Map.Entry<CharSequence, CharSequence>> iteratorCharSequence() {
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < size;
            }

            @Override
            public Map.Entry<CharSequence, CharSequence> next() {
                if (next >= size) {
                    throw new NoSuchElementException();
                }
                int i = next++ << 1;
                return new AbstractMap.SimpleImmutableEntry<>(entries[i], entries[i + 1]);
            }
        };
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    @Override
    public int size() {
        return size;
    }

    /** Every spelling of every name, in order, as Netty's headers give them (a set of strings). */
    @Override
    public Set<String> names() {
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < size; i++) {
            names.add(entries[i << 1].toString());
        }
        return names;
    }

    // ---- changes

    /**
     * Writes every header as {@code name: value\r\n}, in order: what Netty's HTTP/1.x encoders
     * write for a head's headers, without an entry object per header.
     */
    void encodeTo(ByteBuf buf) {
        CharSequence[] e = entries;
        for (int i = 0, n = size << 1; i < n; i += 2) {
            CharSequence name = e[i];
            CharSequence value = e[i + 1];
            int offset = buf.writerIndex();
            buf.ensureWritable(name.length() + value.length() + 4);
            offset += writeAscii(buf, offset, name);
            buf.setShort(offset, COLON_SPACE);
            offset += 2;
            offset += writeAscii(buf, offset, value);
            buf.setShort(offset, CRLF);
            buf.writerIndex(offset + 2);
        }
    }

    private static int writeAscii(ByteBuf buf, int offset, CharSequence s) {
        if (s instanceof AsciiString a) {
            ByteBufUtil.copy(a, 0, buf, offset, a.length());
            return a.length();
        }
        if (s instanceof RequestId id) {
            id.writeTo(buf, offset);
            return id.length();
        }
        return buf.setCharSequence(offset, s, CharsetUtil.US_ASCII);
    }

    private static final short COLON_SPACE = (':' << 8) | ' ';
    private static final short CRLF = ('\r' << 8) | '\n';

    private void append(CharSequence name, CharSequence value) {
        if (entries == null) {
            entries = new CharSequence[INITIAL_PAIRS << 1];
        } else if (size << 1 == entries.length) {
            if (entries == READ_ONLY) {
                throw new UnsupportedOperationException("read-only empty headers");
            }
            entries = Arrays.copyOf(entries, entries.length << 1);
        }
        entries[size << 1] = name;
        entries[(size << 1) + 1] = value;
        size++;
    }

    private CharSequence checkedName(CharSequence name) {
        if (name == null) {
            throw new NullPointerException("name");
        }
        nameValidator.validateName(name);
        return name;
    }

    private CharSequence checkedValue(Object value) {
        if (value == null) {
            throw new NullPointerException("value");
        }
        CharSequence v;
        if (value instanceof CharSequence cs) {
            v = cs;
        } else if (value instanceof Date d) {
            v = DateFormatter.format(d);
        } else if (value instanceof Calendar c) {
            v = DateFormatter.format(c.getTime());
        } else {
            v = value.toString();
        }
        valueValidator.validate(v);
        return v;
    }

    @Override
    public HttpHeaders add(String name, Object value) {
        return add((CharSequence) name, value);
    }

    @Override
    public HttpHeaders add(CharSequence name, Object value) {
        append(checkedName(name), checkedValue(value));
        return this;
    }

    @Override
    public HttpHeaders add(String name, Iterable<?> values) {
        return add((CharSequence) name, values);
    }

    @Override
    public HttpHeaders add(CharSequence name, Iterable<?> values) {
        CharSequence n = checkedName(name);
        for (Object v : values) {
            append(n, checkedValue(v));
        }
        return this;
    }

    @Override
    public HttpHeaders add(HttpHeaders headers) {
        if (headers == this) {
            throw new IllegalArgumentException("can't add to itself.");
        }
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> h = it.next();
            add(h.getKey(), h.getValue());
        }
        return this;
    }

    @Override
    public HttpHeaders addInt(CharSequence name, int value) {
        return add(name, Integer.toString(value));
    }

    @Override
    public HttpHeaders addShort(CharSequence name, short value) {
        return add(name, Short.toString(value));
    }

    @Override
    public HttpHeaders set(String name, Object value) {
        return set((CharSequence) name, value);
    }

    @Override
    public HttpHeaders set(CharSequence name, Object value) {
        CharSequence n = checkedName(name);
        CharSequence v = checkedValue(value);
        remove(n);
        append(n, v);
        return this;
    }

    @Override
    public HttpHeaders set(String name, Iterable<?> values) {
        return set((CharSequence) name, values);
    }

    @Override
    public HttpHeaders set(CharSequence name, Iterable<?> values) {
        CharSequence n = checkedName(name);
        List<CharSequence> checked = new ArrayList<>();
        for (Object v : values) {
            checked.add(checkedValue(v));
        }
        remove(n);
        for (CharSequence v : checked) {
            append(n, v);
        }
        return this;
    }

    @Override
    public HttpHeaders set(HttpHeaders headers) {
        if (headers == this) {
            return this;
        }
        clear();
        return add(headers);
    }

    @Override
    public HttpHeaders setAll(HttpHeaders headers) {
        if (headers == this) {
            return this;
        }
        for (String name : headers.names()) {
            remove(name);
        }
        return add(headers);
    }

    @Override
    public HttpHeaders setInt(CharSequence name, int value) {
        return set(name, Integer.toString(value));
    }

    @Override
    public HttpHeaders setShort(CharSequence name, short value) {
        return set(name, Short.toString(value));
    }

    @Override
    public HttpHeaders remove(String name) {
        return remove((CharSequence) name);
    }

    @Override
    public HttpHeaders remove(CharSequence name) {
        int i = indexOf(name, 0);
        if (i < 0) {
            return this;
        }
        CharSequence[] e = entries;
        int kept = i;
        for (int j = i + 1; j < size; j++) {
            if (!AsciiString.contentEqualsIgnoreCase(e[j << 1], name)) {
                e[kept << 1] = e[j << 1];
                e[(kept << 1) + 1] = e[(j << 1) + 1];
                kept++;
            }
        }
        Arrays.fill(e, kept << 1, size << 1, null);
        size = kept;
        return this;
    }

    @Override
    public HttpHeaders clear() {
        if (entries != null) {
            Arrays.fill(entries, 0, size << 1, null);
        }
        size = 0;
        return this;
    }

    @Override
    public HttpHeaders copy() {
        FlatHttpHeaders c = new FlatHttpHeaders(nameValidator, valueValidator);
        if (size > 0) {
            c.entries = Arrays.copyOf(entries, Math.max(INITIAL_PAIRS, size) << 1);
            c.size = size;
        }
        return c;
    }
}
