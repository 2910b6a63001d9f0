package dev.sluice.gateway.proxy;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Headers that allocate their storage on the first write: the trailers of a decoded message's
 * last content. Netty's decoder gives every body that ends by its {@code Content-Length} a
 * {@code LastHttpContent} with a trailers object of its own (a hash table, ~170 bytes) that
 * nothing ever writes to; only a chunked body's trailer section fills one. With this factory the
 * empty case costs one small object, and a trailer section is stored (and validated) exactly as
 * by {@code factory}'s headers.
 *
 * <p>Not thread-safe, as Netty's headers: confined to the channel's event loop.
 */
final class LazyHttpHeaders extends HttpHeaders {
    /** Netty's trailers (names forbidden in trailers are rejected), allocated on first write. */
    static final HttpHeadersFactory TRAILERS = factory(DefaultHttpHeadersFactory.trailersFactory());

    private final HttpHeadersFactory factory;
    private HttpHeaders storage; // null until the first write

    private LazyHttpHeaders(HttpHeadersFactory factory) {
        this.factory = factory;
    }

    /** A factory whose headers allocate {@code factory}'s headers on their first write. */
    static HttpHeadersFactory factory(HttpHeadersFactory factory) {
        return new HttpHeadersFactory() {
            @Override
            public HttpHeaders newHeaders() {
                return new LazyHttpHeaders(factory);
            }

            @Override
            public HttpHeaders newEmptyHeaders() {
                return new LazyHttpHeaders(factory);
            }
        };
    }

    private HttpHeaders storage() {
        if (storage == null) {
            storage = factory.newHeaders();
        }
        return storage;
    }

    @Override
    public String get(String name) {
        return storage == null ? null : storage.get(name);
    }

    @Override
    public Integer getInt(CharSequence name) {
        return storage == null ? null : storage.getInt(name);
    }

    @Override
    public int getInt(CharSequence name, int defaultValue) {
        return storage == null ? defaultValue : storage.getInt(name, defaultValue);
    }

    @Override
    public Short getShort(CharSequence name) {
        return storage == null ? null : storage.getShort(name);
    }

    @Override
    public short getShort(CharSequence name, short defaultValue) {
        return storage == null ? defaultValue : storage.getShort(name, defaultValue);
    }

    @Override
    public Long getTimeMillis(CharSequence name) {
        return storage == null ? null : storage.getTimeMillis(name);
    }

    @Override
    public long getTimeMillis(CharSequence name, long defaultValue) {
        return storage == null ? defaultValue : storage.getTimeMillis(name, defaultValue);
    }

    @Override
    public List<String> getAll(String name) {
        return storage == null ? Collections.emptyList() : storage.getAll(name);
    }

    @Override
    public List<Map.Entry<String, String>> entries() {
        return storage == null ? Collections.emptyList() : storage.entries();
    }

    @Override
    public boolean contains(String name) {
        return storage != null && storage.contains(name);
    }

    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        return storage == null ? Collections.emptyIterator() : storage.iterator();
    }

    @Override
    public Iterator<Map.Entry<CharSequence, CharSequence>> iteratorCharSequence() {
        return storage == null ? Collections.emptyIterator() : storage.iteratorCharSequence();
    }

    @Override
    public boolean isEmpty() {
        return storage == null || storage.isEmpty();
    }

    @Override
    public int size() {
        return storage == null ? 0 : storage.size();
    }

    @Override
    public Set<String> names() {
        return storage == null ? Collections.emptySet() : storage.names();
    }

    @Override
    public HttpHeaders add(String name, Object value) {
        storage().add(name, value);
        return this;
    }

    @Override
    public HttpHeaders add(CharSequence name, Object value) {
        storage().add(name, value);
        return this;
    }

    @Override
    public HttpHeaders add(String name, Iterable<?> values) {
        storage().add(name, values);
        return this;
    }

    @Override
    public HttpHeaders addInt(CharSequence name, int value) {
        storage().addInt(name, value);
        return this;
    }

    @Override
    public HttpHeaders addShort(CharSequence name, short value) {
        storage().addShort(name, value);
        return this;
    }

    @Override
    public HttpHeaders set(String name, Object value) {
        storage().set(name, value);
        return this;
    }

    @Override
    public HttpHeaders set(CharSequence name, Object value) {
        storage().set(name, value);
        return this;
    }

    @Override
    public HttpHeaders set(String name, Iterable<?> values) {
        storage().set(name, values);
        return this;
    }

    @Override
    public HttpHeaders setInt(CharSequence name, int value) {
        storage().setInt(name, value);
        return this;
    }

    @Override
    public HttpHeaders setShort(CharSequence name, short value) {
        storage().setShort(name, value);
        return this;
    }

    @Override
    public HttpHeaders remove(String name) {
        if (storage != null) {
            storage.remove(name);
        }
        return this;
    }

    @Override
    public HttpHeaders clear() {
        if (storage != null) {
            storage.clear();
        }
        return this;
    }
}
