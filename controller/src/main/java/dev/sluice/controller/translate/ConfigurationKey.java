package dev.sluice.controller.translate;

import dev.sluice.gateway.route.TlsCertificates;
import dev.sluice.gateway.stream.StreamTable;
import java.util.List;
import java.util.Map;

/**
 * What a translation's configuration — the table without its endpoint addresses, which
 * {@code config_hash} and the per-host and per-Ingress gauges describe — was computed from. Two
 * translations by the same translator with equal keys have tables that differ at most in endpoint
 * addresses, so the sync loop need not render, hash or walk the table again when only endpoints
 * changed.
 *
 * <p>Why that holds: the translator reads endpoints only through its backend resolution, and of a
 * resolved backend the configuration depends only on its problem, warning and whether it has
 * endpoints ({@code backendFacts}); the time only through the TLS selection ({@code tls}); and the
 * TCP/UDP services are compared without their endpoints ({@code streams}). Everything else comes
 * from the other objects, compared by identity (an equal copy is a difference here, which only
 * costs a hash). A key is never equal to one of another translator (other flags).
 */
public final class ConfigurationKey {
    private final Object translator;
    private final List<?> ingresses;
    private final List<?> ingressClasses;
    private final List<?> services;
    private final List<?> secrets;
    private final List<?> configMaps;
    private final Map<String, BackendResolver.Facts> backendFacts;
    private final TlsCertificates tls;
    private final List<?> streams;

    ConfigurationKey(Object translator, ClusterState state, Map<String, BackendResolver.Facts> backendFacts,
            TlsCertificates tls, StreamTable streams) {
        this.translator = translator;
        this.ingresses = state.ingresses();
        this.ingressClasses = state.ingressClasses();
        this.services = state.services();
        this.secrets = state.secrets();
        this.configMaps = state.configMaps();
        this.backendFacts = backendFacts;
        this.tls = tls;
        this.streams = streamsKey(streams);
    }

    /**
     * Whether {@code state} holds the very objects this key was computed from, EndpointSlices and
     * Endpoints aside.
     */
    boolean sameObjectsBesidesEndpoints(ClusterState state) {
        return sameObjects(state.ingresses(), state.ingressClasses(), state.services(), state.secrets(),
                state.configMaps());
    }

    private boolean sameObjects(List<?> otherIngresses, List<?> otherClasses, List<?> otherServices,
            List<?> otherSecrets, List<?> otherConfigMaps) {
        return TranslationMemo.sameInstances(ingresses, otherIngresses)
                && TranslationMemo.sameInstances(ingressClasses, otherClasses)
                && TranslationMemo.sameInstances(services, otherServices)
                && TranslationMemo.sameInstances(secrets, otherSecrets)
                && TranslationMemo.sameInstances(configMaps, otherConfigMaps);
    }

    /** Whether {@code streams} are this key's TCP/UDP services, endpoints aside. */
    boolean sameStreams(StreamTable streams) {
        return this.streams.equals(streamsKey(streams));
    }

    private static List<?> streamsKey(StreamTable streams) {
        return streams.services().stream().map(s -> List.of(s.protocol(), s.port(), s.backend(),
                s.proxyProtocolIn(), s.proxyProtocolOut(), s.source())).toList();
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof ConfigurationKey k && translator == k.translator
                && sameObjects(k.ingresses, k.ingressClasses, k.services, k.secrets, k.configMaps)
                && backendFacts.equals(k.backendFacts) && tls.equals(k.tls) && streams.equals(k.streams);
    }

    @Override
    public int hashCode() {
        return backendFacts.hashCode(); // equality is what the sync loop asks; this only keeps the contract
    }

    @Override
    public String toString() {
        return "ConfigurationKey[" + ingresses.size() + " Ingresses, " + backendFacts.size() + " backends]";
    }
}
