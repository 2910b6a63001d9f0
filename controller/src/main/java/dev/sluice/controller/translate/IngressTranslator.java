package dev.sluice.controller.translate;

import com.google.re2j.PatternSyntaxException;
import dev.sluice.controller.translate.HostBuilder.PathKind;
import dev.sluice.controller.translate.HostBuilder.PendingPath;
import dev.sluice.controller.translate.IngressOrder.Keyed;
import dev.sluice.gateway.access.AccessPolicy;
import dev.sluice.gateway.access.ExternalAuth;
import dev.sluice.gateway.balance.TrafficSplit;
import dev.sluice.gateway.balance.Upstream;
import dev.sluice.gateway.balance.Backend;
import dev.sluice.gateway.balance.BalancerSpec;
import dev.sluice.gateway.route.CompressionPolicy;
import dev.sluice.gateway.route.ClientCertificateAuth;
import dev.sluice.gateway.route.ErrorPages;
import dev.sluice.gateway.route.HeaderRewrites;
import dev.sluice.gateway.route.HostRoutes;
import dev.sluice.gateway.route.PathMatcher;
import dev.sluice.gateway.route.Rewrite;
import dev.sluice.gateway.route.Route;
import dev.sluice.gateway.route.RouteOptions;
import dev.sluice.gateway.route.RouteTable;
import dev.sluice.gateway.route.TlsCertificate;
import dev.sluice.gateway.route.TlsCertificates;
import dev.sluice.gateway.stream.StreamTable;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPath;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBackend;
import io.fabric8.kubernetes.api.model.networking.v1.IngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.IngressSpec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Turns Kubernetes objects into the gateway's {@link RouteTable}, reproducing ingress-nginx's
 * routing (SPEC §1–§4, §6.1, §9). A pure function: the same {@link ClusterState} at the same
 * {@code now} always gives an equal {@link Translation}, so the sync loop does not republish
 * unchanged tables and tests can pin the time. It reads no clock and logs nothing: problems and
 * debug notes are part of the result. Its only state is a {@link CertificateCache} and a
 * {@link TranslationMemo} of the last translation's per-object work, which save work and change
 * no result: a translation reuses an Ingress's parsed annotations, a backend's resolution or a
 * compiled regex only when every object that work read is the very same instance as last time.
 *
 * <p>The passes, in order:
 * <ol>
 *   <li>class selection ({@link IngressClassFilter}); Ingresses for other controllers are skipped
 *       silently;
 *   <li>ordering oldest first ({@link IngressOrder}); annotations parsed
 *       ({@link IngressAnnotations}); the list split into mainline and canary Ingresses;
 *   <li>mainline Ingresses, oldest first: each rule host becomes a virtual host (the oldest
 *       Ingress naming a host creates it and its {@code defaultBackend}, if any, answers the
 *       host's unmatched paths); each path becomes a location unless an older Ingress already
 *       declared the same path with the same type on that host; backends are resolved to ready
 *       endpoints ({@link BackendResolver});
 *   <li>canary Ingresses, oldest first (SPEC §5.2 with Sluice's decisions): each canary path
 *       attaches on its own to the mainline location with the same host (string equality), the
 *       same path string and the same pathType; a path without such a location is reported and
 *       skipped (requests for it get whatever the mainline host answers, 404 when nothing), the
 *       other paths still attach; a location takes at most one canary (the oldest); a canary
 *       whose Service is the location's own is reported and not attached. The canary is bound to
 *       that location, not to the mainline Service: other hosts using the same Service are not
 *       canaried. Canary Ingresses create no hosts and no locations;
 *   <li>hosts are built: a host is in regex mode when any of its Ingresses uses
 *       {@code use-regex} or a {@code rewrite-target} that differs from the path; then every
 *       non-Exact path of the host is a case-insensitive regex anchored at the start.
 * </ol>
 *
 * <p>The catch-all (host-less rules and unknown hosts) answers unmatched requests with the
 * {@code defaultBackend} of the oldest Ingress that has host-less rules or no rules and a
 * {@code defaultBackend} (Sluice's decision, see SPEC), else with {@code --default-backend-service},
 * else with the built-in 404.
 *
 * <p>Upstreams: one {@link Upstream} per backend name per table, shared by every location that
 * uses it, balanced as the annotations of the oldest Ingress that references it say
 * ({@code load-balance}, {@code upstream-hash-by*}, {@code affinity}, SPEC §6.2). Upstreams are
 * data here (backend and balancer spec); their live balancers are bound when the table is
 * published, continuing the running table's state ({@code RouteTableHolder#publish}).
 *
 * <p>Besides the HTTP routes, the table carries the TCP and UDP services of the ConfigMaps named
 * by {@code --tcp-services-configmap} / {@code --udp-services-configmap} ({@link StreamTranslator}).
 *
 * <p>One bad Ingress never takes the others down: whatever goes wrong
 * while translating it becomes a {@link Problem} and that Ingress is left out.
 */
public final class IngressTranslator implements BiFunction<ClusterState, Instant, Translation> {
    private static final String KIND = "Ingress";
    /** An HTTP header name (RFC 9110 token). */
    private static final Pattern HEADER_NAME = Pattern.compile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$");
    /** A header value NGINX would send: visible characters, blanks and tabs, no line breaks. */
    private static final Pattern HEADER_VALUE = Pattern.compile("^[\\t\\x20-\\x7e\\x80-\\xff]*$");

    private final TranslatorConfig config;
    private final CertificateCache certificates;
    /** The per-object work of the last translation (replaced whole, never changed in place). */
    private volatile TranslationMemo memo = TranslationMemo.EMPTY;
    private final AtomicLong endpointRefreshes = new AtomicLong();

    /** A translator with its own {@link CertificateCache}. */
    public IngressTranslator(TranslatorConfig config) {
        this(config, new CertificateCache());
    }

    /**
     * @param certificates parse results of TLS Secrets kept across this translator's translations
     */
    public IngressTranslator(TranslatorConfig config, CertificateCache certificates) {
        this.config = Objects.requireNonNull(config, "config");
        this.certificates = Objects.requireNonNull(certificates, "certificates");
    }

    /**
     * Translates a snapshot; never throws for bad objects (they become problems).
     *
     * @param now the time the translation is for: certificates are checked against it, never
     *            against the wall clock, so equal inputs give equal results
     */
    public Translation translate(ClusterState state, Instant now) {
        Objects.requireNonNull(now, "now");
        TranslationMemo refreshed = EndpointRefresh.refresh(this, config, memo, state, now);
        if (refreshed != null) {
            memo = refreshed;
            endpointRefreshes.incrementAndGet();
            return refreshed.last().translation();
        }
        return new Run(state, now).translate();
    }

    /**
     * How many translations found the configuration unchanged and only refreshed endpoints
     * ({@link EndpointRefresh}); for tests and benchmarks.
     */
    public long endpointRefreshes() {
        return endpointRefreshes.get();
    }

    @Override
    public Translation apply(ClusterState state, Instant now) {
        return translate(state, now);
    }

    /** An Ingress selected for this controller, with its parsed annotations. */
    private record Parsed(Keyed keyed, IngressAnnotations annotations) {
        Ingress ingress() {
            return keyed.ingress();
        }

        String namespace() {
            return keyed.namespace();
        }

        String name() {
            return keyed.name();
        }
    }

    /** The mutable state of one translation. */
    private final class Run {
        private final ClusterState state;
        private final Instant now;
        private final BackendResolver backends;
        private final Set<Problem> problems = new LinkedHashSet<>();
        private final Set<Problem> awaitingObjects = new LinkedHashSet<>();
        /** Debug-level {@link Translation#notes}. */
        private final Set<Problem> notes = new LinkedHashSet<>();
        private final Map<String, HostBuilder> hosts = new HashMap<>();
        private final Map<String, Upstream> upstreams = new HashMap<>();
        private final SecretIndex secrets;
        /** {@code auth-tls-*} per host: the oldest Ingress of a host that asks for it wins. */
        private final Map<String, ClientCertificateAuth> clientAuth = new HashMap<>();
        /**
         * Locations denied because of a host's client-certificate check, keyed by host (every
         * location of the host: an Ingress asked for a check that cannot be honoured) or by
         * {@code host namespace/name} (that Ingress asked for a different check than the host's).
         */
        private final Map<String, String> clientAuthDenials = new HashMap<>();
        /** The mainline Ingresses by {@code namespace/name}, for their canaries. */
        private final Map<String, Ingress> mainlineBySource = new HashMap<>();
        /** {@code ssl-ciphers} per host: the oldest Ingress of a host that sets it wins. */
        private final Map<String, List<String>> sslCiphers = new HashMap<>();
        private String catchAllCanarySource;
        private final Route controllerDefault;
        private final HostBuilder catchAll;
        /** Hosts of Ingresses with {@code ssl-passthrough} (OR-ed per host, as ingress-nginx), and who asked. */
        private final Map<String, String> passthroughHosts = new LinkedHashMap<>();
        /** Hosts of Ingresses with {@code from-to-www-redirect}, oldest first. */
        private final Set<String> wwwRedirectHosts = new LinkedHashSet<>();
        /** {@code server-alias}: alias → the host it names, first claim wins; who claimed it. */
        private final Map<String, String> aliases = new LinkedHashMap<>();
        private final Map<String, String> aliasSources = new HashMap<>();
        /** Hosts whose aliases are set (the oldest Ingress of a host that declares some wins). */
        private final Set<String> aliasedHosts = new HashSet<>();
        /** The aliases the table serves (alias → host), for their certificates. */
        private final Map<String, String> installedAliases = new LinkedHashMap<>();
        private boolean catchAllFallbackSet;
        /** The global ConfigMap, read once per translation. */
        private final GlobalSettings global;
        private final CompressionPolicy compression;
        /** The last translation's per-object work, and this one's for the next. */
        private final TranslationMemo last;
        private final boolean annotationsReusable;
        private final Map<Ingress, TranslationMemo.Annotated> annotated = new IdentityHashMap<>();
        private final Map<String, PathMatcher.Regex> regexes = new HashMap<>();
        private final Map<TranslationMemo.RewriteKey, Rewrite> rewrites = new HashMap<>();

        Run(ClusterState state, Instant now) {
            this.state = state;
            this.now = now;
            this.last = memo;
            this.annotationsReusable = last.annotationsValidFor(state);
            this.backends = new BackendResolver(ObjectIndex.of(state, last.objects()), config.disableSvcExternalName(),
                    last.backends());
            this.secrets = new SecretIndex(state.secrets());
            this.global = GlobalSettings.parse(config.globalConfigMap(), state.configMaps(), config.annotationsPrefix(),
                    secrets, problems::add);
            this.compression = compression(global);
            this.controllerDefault = controllerDefault();
            this.catchAll = new HostBuilder("", controllerDefault, false);
        }

        /** The global ConfigMap's gzip / brotli keys ({@link CompressionSettings}); off without a ConfigMap. */
        private CompressionPolicy compression(GlobalSettings settings) {
            if (settings.source() == null) {
                return CompressionPolicy.OFF;
            }
            int slash = settings.source().indexOf('/');
            CompressionSettings read = CompressionSettings.fromConfigMap(settings.source().substring(0, slash),
                    settings.source().substring(slash + 1), settings.data());
            problems.addAll(read.problems());
            return read.policy();
        }

        Translation translate() {
            IngressClassFilter classes = new IngressClassFilter(config, state.ingressClasses());
            List<Ingress> served = new ArrayList<>();
            for (Ingress ing : state.ingresses()) {
                if (ing.getMetadata() == null || ing.getMetadata().getName() == null) {
                    notes.add(new Problem(KIND, ing.getMetadata() == null ? "" : BackendResolver.namespace(ing), "",
                            "Ingress without metadata.name skipped"));
                } else if (classes.accepts(ing)) {
                    served.add(ing);
                } else {
                    note(BackendResolver.namespace(ing), ing.getMetadata().getName(),
                            "not for this controller (class), ignored");
                }
            }
            List<Parsed> mainline = new ArrayList<>();
            List<Parsed> canaries = new ArrayList<>();
            for (Keyed k : IngressOrder.sort(served)) {
                try {
                    TranslationMemo.Annotated done = annotated(k);
                    IngressAnnotations a = done.annotations();
                    Parsed p = new Parsed(k, a);
                    done.problems().forEach(m -> report(k.namespace(), k.name(), m));
                    if (a.canary()) {
                        canaries.add(p);
                        continue;
                    }
                    if (a.canaryConfigured()) {
                        report(k.namespace(), k.name(), "canary-* annotations without " + config.annotationsPrefix()
                                + "/canary: \"true\" are ignored; served as a normal Ingress");
                    }
                    mainline.add(p);
                    mainlineBySource.put(k.namespace() + "/" + k.name(), k.ingress());
                } catch (RuntimeException e) {
                    failed(k.namespace(), k.name(), e);
                }
            }
            collectClientAuth(mainline);
            for (Parsed p : mainline) {
                try {
                    addMainline(p);
                } catch (RuntimeException e) {
                    failed(p.namespace(), p.name(), e);
                }
            }
            for (Parsed c : canaries) {
                try {
                    attachCanary(c);
                } catch (RuntimeException e) {
                    failed(c.namespace(), c.name(), e);
                }
            }
            // SPEC §10.1: canary Ingresses contribute no certificates
            TlsSelection selection = new TlsSelection(secrets, certificates, now, this::reportAwaitingObject);
            TlsCertificates tls = selection.select(mainline.stream().map(Parsed::ingress).toList(),
                    defaultCertificate(selection));
            certificates.retainOnly(selection.secretsUsed()); // no key outlives its Secret's use
            StreamTable streams = new StreamTranslator(config.streams(), backends, state.configMaps(), problems::add,
                    notes::add).translate();
            RouteTable table = buildTable();
            tls = selection.withAliases(tls, installedAliases);
            // an alias is its host's server: the handshake of its SNI name asks for the same certificate
            Map<String, ClientCertificateAuth> clientAuthByName = new HashMap<>(clientAuth);
            installedAliases.forEach((alias, host) -> {
                if (clientAuth.containsKey(host)) {
                    clientAuthByName.putIfAbsent(alias, clientAuth.get(host));
                }
            });
            TlsCertificates finalTls = tls.withClientAuth(clientAuthByName).withPassthrough(passthrough(table))
                    .withCiphers(sslCiphers);
            ConfigurationKey key = new ConfigurationKey(IngressTranslator.this, state, backends.configurationFacts(),
                    finalTls, streams);
            Translation result = new Translation(table.withTls(finalTls).withStreams(streams)
                    .withSettings(global.proxy()).withCompression(compression), List.copyOf(problems),
                    List.copyOf(notes), List.copyOf(awaitingObjects), key);
            // this run's maps, handed over whole: nothing changes them after this point
            memo = new TranslationMemo(state.secrets(), state.configMaps(), annotated, backends.objects(),
                    backends.remembered(),
                    backends.firstPorts(), Collections.unmodifiableMap(regexes), Collections.unmodifiableMap(rewrites),
                    new TranslationMemo.Last(result, now, selection.validityUnchangedUntil(), null));
            return result;
        }

        /**
         * The annotations of an Ingress completed against the cluster ({@code auth-tls-*} host
         * check, {@code custom-headers}) and their problems: the last translation's when the
         * Ingress and the Secrets and ConfigMaps they read are the same instances.
         */
        private TranslationMemo.Annotated annotated(Keyed k) {
            TranslationMemo.Annotated done = annotationsReusable ? last.annotations().get(k.ingress()) : null;
            if (done == null) {
                List<String> annotationProblems = new ArrayList<>();
                IngressAnnotations a = IngressAnnotations.parse(k.ingress(), config.annotationsPrefix(), secrets,
                        global, annotationProblems::add);
                if (a.clientAuth() != null && !namesEveryHost(k.ingress())) {
                    String why = "auth-tls-* is a per-host setting and this Ingress has rules without a host "
                            + "(or none)";
                    annotationProblems.add(why + "; every location of this Ingress answers 503 (location denied)");
                    a = a.denied(why);
                }
                if (a.routeOptions().access() instanceof AccessPolicy.Guarded g
                        && g.authentication() instanceof ExternalAuth e && e.url().variableHost()
                        && !namesEveryHost(k.ingress())) {
                    // on a rule without a host, $host is whatever the client sends: it would pick the
                    // auth service, and so answer its own check
                    String why = "auth-url " + e.url() + " takes its host from the request, and this Ingress has "
                            + "rules without a host (or none), where the client chooses it";
                    annotationProblems.add(why + "; every location of this Ingress answers 503 (location denied)");
                    a = a.denied(why);
                }
                a = withCustomHeaders(k, a, annotationProblems);
                done = new TranslationMemo.Annotated(a, annotationProblems);
            }
            annotated.put(k.ingress(), done);
            return done;
        }

        /** A regex location's matcher: compiled once per path while some table uses it. */
        private PathMatcher.Regex regex(String path) {
            return reused(regexes, last.regexes(), path, PathMatcher.Regex::compile);
        }

        /** A {@code rewrite-target} compiled for a location path, once while some table uses it. */
        private Rewrite rewrite(String path, String target) {
            return reused(rewrites, last.rewrites(), new TranslationMemo.RewriteKey(path, target),
                    k -> Rewrite.of(k.path(), k.target()));
        }

        /**
         * This run's value for {@code key}: already made in this run, else the last run's, else
         * made now ({@code make} may throw: a failure is not remembered).
         */
        private static <K, V> V reused(Map<K, V> current, Map<K, V> previous, K key, Function<K, V> make) {
            V v = current.get(key);
            if (v == null) {
                v = previous.get(key);
                if (v == null) {
                    v = make.apply(key);
                }
                current.put(key, v);
            }
            return v;
        }

        /**
         * Attaches the paths of one canary Ingress to the mainline locations declared with the same
         * host, path string and pathType (see the class comment). Called oldest canary first, after
         * every mainline Ingress, so the order in which canary and mainline were created does not
         * matter.
         */
        private void attachCanary(Parsed c) {
            IngressSpec spec = c.ingress().getSpec();
            String source = c.namespace() + "/" + c.name();
            if (spec != null && spec.getDefaultBackend() != null) {
                attachCanaryDefaultBackend(c, spec.getDefaultBackend(), source);
            }
            List<IngressRule> rules = spec == null || spec.getRules() == null ? List.of() : spec.getRules();
            for (IngressRule rule : rules) {
                String host = hostKey(rule.getHost());
                if (host == null) {
                    report(c.namespace(), c.name(), "invalid host \"" + rule.getHost() + "\"; rule skipped");
                    continue;
                }
                if (rule.getHttp() == null || rule.getHttp().getPaths() == null) {
                    continue;
                }
                HostBuilder hb = host.isEmpty() ? catchAll : hosts.get(host);
                for (HTTPIngressPath hp : rule.getHttp().getPaths()) {
                    String path = hp.getPath() == null || hp.getPath().isEmpty() ? "/" : hp.getPath();
                    PathKind kind = pathKind(hp.getPathType());
                    if (kind == null) {
                        report(c.namespace(), c.name(), "unknown pathType \"" + hp.getPathType() + "\" for path "
                                + path + "; path skipped");
                        continue;
                    }
                    String where = "canary path " + path + " (" + typeName(kind) + ") on host "
                            + HostBuilder.display(host);
                    PendingPath main = hb == null ? null : hb.find(path, kind);
                    if (main == null) {
                        report(c.namespace(), c.name(), where + " has no mainline Ingress with the same host, path "
                                + "and pathType; not attached (a canary alone answers 404)");
                        continue;
                    }
                    if (main.canarySource() != null) {
                        report(c.namespace(), c.name(), where + " already has the canary " + main.canarySource()
                                + " (the oldest wins); ignored");
                        continue;
                    }
                    TrafficSplit split = canarySplit(c, main.split(), main.source(), hp.getBackend(), where);
                    if (split != null) {
                        hb.replace(main.withCanary(split, source));
                    }
                }
            }
        }

        /**
         * A canary's {@code defaultBackend} becomes the canary of the catch-all's fallback when
         * that fallback is an Ingress's {@code defaultBackend} (ingress-nginx merges it into the
         * mergeable locations of the {@code _} server; its paths get canaries through their rules).
         */
        private void attachCanaryDefaultBackend(Parsed c, IngressBackend b, String source) {
            String where = "canary defaultBackend";
            Route fallback = catchAll.fallback();
            if (!catchAllFallbackSet || fallback.split() == null) {
                report(c.namespace(), c.name(), where + " has no mainline defaultBackend to attach to; not attached");
                return;
            }
            if (catchAllCanarySource != null) {
                report(c.namespace(), c.name(), where + ": the catch-all already has the canary "
                        + catchAllCanarySource + " (the oldest wins); ignored");
                return;
            }
            TrafficSplit split = canarySplit(c, fallback.split(), fallback.source(), b, where);
            if (split != null) {
                catchAll.fallback(fallback.withSplit(split));
                catchAllCanarySource = source;
            }
        }

        /** The mainline split with this canary's backend and policy, or {@code null} (reported). */
        private TrafficSplit canarySplit(Parsed c, TrafficSplit mainline, String mainlineSource, IngressBackend b,
                String where) {
            List<String> unmatched = accessNotInMainline(c.ingress(), mainlineBySource.get(mainlineSource));
            if (!unmatched.isEmpty()) {
                // as in ingress-nginx, canary traffic runs under the mainline location's access
                // control only; a canary that asks for more would reach its Service without it
                report(c.namespace(), c.name(), where + " asks for access control that mainline Ingress "
                        + mainlineSource + " does not have (" + String.join(", ", unmatched) + "); a canary runs under "
                        + "the mainline's access control only, so it is not attached (fail closed)");
                return null;
            }
            Backend canary = backend(c, b, where);
            if (canary == null) {
                return null;
            }
            if (canary.name().equals(mainline.mainline().name())) {
                report(c.namespace(), c.name(), where + " uses the mainline's own Service " + canary.name()
                        + "; not attached");
                return null;
            }
            IngressAnnotations a = c.annotations();
            return TrafficSplit.of(mainline.mainline(), canary, a.balancer(), a.canaryRule(),
                    a.affinityCanaryBehavior());
        }

        /**
         * The canary's access-control annotations ({@code auth-*}, {@code *-source-range},
         * {@code limit-*}, {@code satisfy}, ...) that the mainline Ingress does not have with the same
         * value. Copying the mainline's annotations onto the canary, the usual way to write one, gives
         * none.
         */
        private List<String> accessNotInMainline(Ingress canary, Ingress mainline) {
            String p = config.annotationsPrefix() + "/";
            Map<String, String> own = canary.getMetadata().getAnnotations();
            Map<String, String> main = mainline == null || mainline.getMetadata().getAnnotations() == null ? Map.of()
                    : mainline.getMetadata().getAnnotations();
            List<String> out = new ArrayList<>();
            for (Map.Entry<String, String> e : own == null ? List.<Map.Entry<String, String>>of() : own.entrySet()) {
                String suffix = e.getKey().startsWith(p) ? e.getKey().substring(p.length()) : "";
                // enable-global-auth can only take protection away: the canary runs under the mainline's anyway
                if (AnnotationKey.inAccessControlFamily(suffix)
                        && !suffix.equals(AnnotationKey.ENABLE_GLOBAL_AUTH.suffix())
                        && !Objects.equals(e.getValue(), main.get(e.getKey()))) {
                    out.add(e.getKey());
                }
            }
            Collections.sort(out);
            return out;
        }

        /**
         * The shared upstream of a backend: created once per table, balanced as the oldest Ingress
         * that references it says (mainline Ingresses are processed oldest first).
         */
        private Upstream upstream(Parsed p, Backend b) {
            return upstreams.computeIfAbsent(b.name(), n -> Upstream.of(b, p.annotations().balancer()));
        }

        private void addMainline(Parsed p) {
            Ingress ing = p.ingress();
            IngressAnnotations a = p.annotations();
            IngressSpec spec = ing.getSpec();
            String source = p.namespace() + "/" + p.name();
            List<IngressRule> rules = spec == null || spec.getRules() == null ? List.of() : spec.getRules();

            // Work out everything this Ingress contributes first, and change shared state only at
            // the end, so an exception half-way leaves no trace of the Ingress.
            Backend defaultBackend = null;
            if (spec != null && spec.getDefaultBackend() != null) {
                defaultBackend = backend(p, spec.getDefaultBackend(), "defaultBackend");
            }
            // the catch-all takes the annotations except redirect and rewrite (ingress-nginx:
            // "Redirect and rewrite can affect the catch all behavior, skip for now")
            Route catchAllRoute = defaultBackend == null ? null
                    : new Route(new PathMatcher.Prefix("/"), source, TrafficSplit.of(upstream(p, defaultBackend)),
                            a.routeOptions().withRedirect(null), null);
            Route hostFallback = hostFallback(p, defaultBackend);
            List<String> ruleHosts = new ArrayList<>();
            List<HostedPath> paths = new ArrayList<>();
            for (IngressRule rule : rules) {
                String host = hostKey(rule.getHost());
                if (host == null) {
                    report(p.namespace(), p.name(), "invalid host \"" + rule.getHost() + "\"; rule skipped");
                    continue;
                }
                ruleHosts.add(host);
                if (rule.getHttp() == null || rule.getHttp().getPaths() == null) {
                    continue;
                }
                for (HTTPIngressPath hp : rule.getHttp().getPaths()) {
                    PendingPath pp = pendingPath(p, host, hp);
                    if (pp != null) {
                        paths.add(new HostedPath(host, pp));
                    }
                }
            }

            // the fallback location "/" of a host carries its creator's annotations, so they count
            // for the host's regex mode like any location (ingress-nginx enforceRegexModifier)
            boolean creatorRegex = a.useRegex() || (a.rewriteTarget() != null && !a.rewriteTarget().equals("/"));
            for (String host : ruleHosts) {
                HostBuilder hb = host.isEmpty() ? catchAll : hosts.get(host);
                if (hb == null) {
                    hb = new HostBuilder(host, hostFallback, creatorRegex);
                    hosts.put(host, hb);
                }
                if (a.appRoot() != null) {
                    hb.offerAppRoot(a.appRoot());
                }
                if (a.sslCiphers() != null) {
                    if (host.isEmpty()) {
                        report(p.namespace(), p.name(), "ssl-ciphers applies to the TLS connections of named hosts "
                                + "(chosen by SNI); ignored for the rules without a host");
                    } else {
                        sslCiphers.putIfAbsent(host, a.sslCiphers()); // a server-level annotation: oldest wins
                    }
                }
                if (a.sslPassthrough()) {
                    offerPassthrough(p, host);
                }
                if (a.fromToWwwRedirect() && !host.isEmpty() && !host.startsWith("*.")) {
                    wwwRedirectHosts.add(host);
                }
                offerAliases(p, host);
            }
            for (HostedPath hp : paths) {
                HostBuilder hb = hp.host().isEmpty() ? catchAll : hosts.get(hp.host());
                PendingPath older = hb.add(hp.path());
                if (older != null) {
                    report(p.namespace(), p.name(), "path " + hp.path().path() + " (" + typeName(hp.path().kind())
                            + ") on host " + HostBuilder.display(hp.host()) + " is already defined by Ingress "
                            + older.source() + " (the oldest wins); ignored");
                }
            }
            if (catchAllRoute != null && !catchAllFallbackSet && (rules.isEmpty() || ruleHosts.contains(""))) {
                catchAll.fallback(catchAllRoute);
                catchAllFallbackSet = true;
            }
        }

        /**
         * The fallback location {@code /} of a host this Ingress creates (SPEC §4.2): its
         * {@code defaultBackend}, else the controller's default backend (else the built-in 404);
         * with this Ingress's annotations (the HTTPS redirect ones apply to the built-in 404 too),
         * including a {@code rewrite-target} other than {@code /} (ingress-nginx
         * applies all location annotations to it).
         */
        private Route hostFallback(Parsed p, Backend defaultBackend) {
            TrafficSplit split = defaultBackend != null ? TrafficSplit.of(upstream(p, defaultBackend))
                    : controllerDefault.split();
            IngressAnnotations a = p.annotations();
            RouteOptions options = a.routeOptions();
            if (a.lookups().errorPages() && !a.lookups().customHttpErrors().isEmpty()) {
                // ingress-nginx's fallback "/" of a host takes custom-http-errors from the host's creator
                IngressBackend own = p.ingress().getSpec() == null ? null : p.ingress().getSpec().getDefaultBackend();
                boolean named = defaultBackend != null && own.getService() != null;
                options = options.withErrorPages(errorPages(p, named ? own.getService().getName() : "",
                        named ? defaultBackend.name().substring(p.namespace().length()
                                + own.getService().getName().length() + 2) : ""));
            }
            if (split == null) {
                // the built-in 404, still with the creator's HTTPS and fixed redirect settings
                return new Route(new PathMatcher.Prefix("/"), Route.BUILT_IN, (TrafficSplit) null, options, null);
            }
            if (a.rewriteTarget() != null && !a.rewriteTarget().equals("/")) {
                options = options.withRewrite(rewrite("/", a.rewriteTarget()), a.xForwardedPrefix());
            }
            return new Route(new PathMatcher.Prefix("/"), defaultBackend != null ? p.namespace() + "/" + p.name()
                    : Route.BUILT_IN, split, options, null);
        }

        private record HostedPath(String host, PendingPath path) {}

        /**
         * {@code ssl-passthrough} on one rule host (SPEC §10.4): only with
         * {@code --enable-ssl-passthrough}, only for named, non-wildcard hosts (SNI names compare
         * exactly); anything else is reported and ignored.
         */
        private void offerPassthrough(Parsed p, String host) {
            if (!config.sslPassthrough()) {
                report(p.namespace(), p.name(), "ssl-passthrough needs --enable-ssl-passthrough; ignored");
            } else if (host.isEmpty() || host.startsWith("*.")) {
                report(p.namespace(), p.name(), "ssl-passthrough needs a host name (not "
                        + HostBuilder.display(host) + ": SNI names are compared exactly); ignored");
            } else {
                passthroughHosts.putIfAbsent(host, p.namespace() + "/" + p.name());
            }
        }

        /** The passthrough hosts and the upstream of each one's {@code /} location. */
        private Map<String, Upstream> passthrough(RouteTable table) {
            Map<String, Upstream> out = new HashMap<>();
            passthroughHosts.forEach((host, source) -> {
                HostRoutes h = table.hosts().get(host);
                Route root = h == null ? null : h.routes().stream()
                        .filter(r -> r.matcher().path().equals("/") && r.split() != null).findFirst().orElse(null);
                if (root == null) {
                    int slash = source.indexOf('/');
                    report(source.substring(0, slash), source.substring(slash + 1), "ssl-passthrough on host " + host
                            + " needs a path / with a backend (its backend receives the TLS stream); ignored");
                } else {
                    out.put(host, root.split().mainline());
                }
            });
            return out;
        }

        /** Whether every rule of the Ingress names a host (and it has rules): per-host settings can apply. */
        private boolean namesEveryHost(Ingress ing) {
            IngressSpec spec = ing.getSpec();
            if (spec == null || spec.getRules() == null || spec.getRules().isEmpty()) {
                return false;
            }
            for (IngressRule rule : spec.getRules()) {
                String host = hostKey(rule.getHost());
                if (host == null || host.isEmpty()) {
                    return false;
                }
            }
            return true;
        }

        /**
         * The client-certificate check of every host ({@code auth-tls-*}, a per-host setting: the
         * oldest Ingress of a host that asks for one wins, as in ingress-nginx), and the locations it
         * cannot cover. Fail closed where ingress-nginx is not: when an Ingress asks for a check
         * whose values cannot be honoured (a missing CA Secret, a bad value), every location of its
         * hosts answers 503, including other Ingresses' paths on them, which the check would
         * otherwise protect; when a newer Ingress asks for a different check than the host's, its
         * own locations there answer 503 instead of running under a check it did not ask for.
         */
        private void collectClientAuth(List<Parsed> mainline) {
            String asks = config.annotationsPrefix() + "/auth-tls-";
            Map<String, String> winners = new HashMap<>();
            for (Parsed p : mainline) {
                Map<String, String> ann = p.ingress().getMetadata().getAnnotations();
                if (ann == null || ann.keySet().stream().noneMatch(k -> k.startsWith(asks))) {
                    continue;
                }
                ClientCertificateAuth wanted = p.annotations().clientAuth();
                String source = p.namespace() + "/" + p.name();
                for (IngressRule rule : p.ingress().getSpec() == null || p.ingress().getSpec().getRules() == null
                        ? List.<IngressRule>of() : p.ingress().getSpec().getRules()) {
                    String host = hostKey(rule.getHost());
                    if (host == null || host.isEmpty()) {
                        continue; // the Ingress is denied already (auth-tls-* needs a host on every rule)
                    }
                    if (wanted == null) {
                        if (clientAuthDenials.putIfAbsent(host, "the client-certificate check (auth-tls-*) that "
                                + "Ingress " + source + " asks of host " + host + " cannot be honoured") == null) {
                            report(p.namespace(), p.name(), "auth-tls-* cannot be honoured, so every location of host "
                                    + host + " answers 503 (location denied), including other Ingresses' paths");
                        }
                        continue;
                    }
                    ClientCertificateAuth host0 = clientAuth.putIfAbsent(host, wanted);
                    winners.putIfAbsent(host, source);
                    if (host0 != null && !sameCheck(host0, wanted)) {
                        String why = "Ingress " + source + " asks host " + host + " for a different client-certificate "
                                + "check (auth-tls-*) than Ingress " + winners.get(host) + ", whose check the host uses";
                        clientAuthDenials.put(host + " " + source, why);
                        report(p.namespace(), p.name(), why + "; its locations on that host answer 503 (location denied)");
                    }
                }
            }
        }

        /** Whether two checks verify alike, whichever Secret holds the CA bundle. */
        private static boolean sameCheck(ClientCertificateAuth a, ClientCertificateAuth b) {
            return a.caBundlePem().equals(b.caBundlePem()) && a.mode() == b.mode() && a.verifyDepth() == b.verifyDepth()
                    && Objects.equals(a.errorPage(), b.errorPage())
                    && a.passCertificateToUpstream() == b.passCertificateToUpstream();
        }

        /** One path of an Ingress, or {@code null} when it is skipped (reported). */
        private PendingPath pendingPath(Parsed p, String host, HTTPIngressPath hp) {
            String path = hp.getPath() == null || hp.getPath().isEmpty() ? "/" : hp.getPath();
            String type = hp.getPathType();
            if (hasControlCharacter(path)) {
                report(p.namespace(), p.name(), "path \"" + path + "\" holds control characters; path skipped");
                return null;
            }
            PathKind kind = pathKind(type);
            if (kind == null) {
                report(p.namespace(), p.name(), "unknown pathType \"" + type + "\" for path " + path + "; path skipped");
                return null;
            }
            Backend backend = backend(p, hp.getBackend(), "path " + path);
            if (backend == null) {
                return null;
            }
            IngressAnnotations a = p.annotations();
            RouteOptions options = a.routeOptions();
            String clientAuthDenial = clientAuthDenials.getOrDefault(host,
                    clientAuthDenials.get(host + " " + p.namespace() + "/" + p.name()));
            if (clientAuthDenial != null) {
                options = options.withAccess(new AccessPolicy.Denied(clientAuthDenial));
            }
            boolean rewriteActive = a.rewriteTarget() != null && !a.rewriteTarget().equals(path);
            if (rewriteActive) {
                try {
                    options = options.withRewrite(rewrite(path, a.rewriteTarget()), a.xForwardedPrefix());
                } catch (PatternSyntaxException e) {
                    report(p.namespace(), p.name(), "invalid regex path \"" + path + "\" on host "
                            + HostBuilder.display(host) + " (rewrite-target): " + e.getMessage() + "; path skipped");
                    return null;
                }
            }
            TrafficSplit split = TrafficSplit.of(upstream(p, backend));
            if (a.lookups().errorPages()) {
                String serviceName = hp.getBackend().getService().getName();
                ErrorPages pages = errorPages(p, serviceName, BackendResolver.backendName(p.namespace(),
                        hp.getBackend().getService()).substring(p.namespace().length() + serviceName.length() + 2));
                if (!backend.hasEndpoints() && a.lookups().defaultBackend() != null && pages.backend() != null
                        && pages.backend().hasEndpoints()) {
                    // SPEC §4.4 (a): the default backend serves the location while its Service is empty
                    split = TrafficSplit.of(pages.backend());
                    pages = pages.replacingService();
                }
                options = options.withErrorPages(pages);
            }
            return new PendingPath(path, kind, p.namespace(), p.name(), split, options,
                    a.affinity() ? path : null, a.useRegex() || rewriteActive, null);
        }

        /**
         * The error pages of a location of {@code p} whose Service is {@code serviceName}
         * ({@code custom-http-errors}, {@code default-backend}, SPEC §4.4–4.5): the
         * {@code default-backend} Service's first port, else (also when that Service is missing,
         * reported) {@code --default-backend-service}, else none (the built-in 404 answers
         * intercepted errors).
         */
        private ErrorPages errorPages(Parsed p, String serviceName, String servicePort) {
            LookupAnnotations l = p.annotations().lookups();
            Upstream errorBackend = controllerDefault.split() == null ? null : controllerDefault.split().mainline();
            if (l.defaultBackend() != null) {
                Backend b = backends.firstPortBackend(p.namespace(), l.defaultBackend());
                if (b == null) {
                    report(p.namespace(), p.name(), "default-backend service " + p.namespace() + "/"
                            + l.defaultBackend() + " not found or has no port; "
                            + (errorBackend == null ? "errors are answered by the built-in 404"
                                    : "using --default-backend-service"));
                } else {
                    errorBackend = upstreams.computeIfAbsent(b.name(), n -> Upstream.of(b, BalancerSpec.DEFAULT));
                }
            }
            return new ErrorPages(l.customHttpErrors(), errorBackend, p.namespace(), p.name(), serviceName, servicePort,
                    false);
        }

        /**
         * {@code custom-headers}: the named ConfigMap's data become the locations' response
         * headers. The ConfigMap must be in the Ingress's namespace (another namespace's data are
         * not the Ingress author's to publish); a missing one, or one of another namespace, denies
         * the Ingress's locations (503) as ingress-nginx does. Entries that are not a header name
         * and value are reported and skipped.
         */
        private IngressAnnotations withCustomHeaders(Keyed k, IngressAnnotations a, List<String> problems) {
            String ref = a.lookups().customHeaders();
            if (ref == null) {
                return a;
            }
            int slash = ref.indexOf('/');
            String ns = slash < 0 ? k.namespace() : ref.substring(0, slash);
            String name = ref.substring(slash + 1);
            String deny = null;
            ConfigMap found = null;
            if (!ns.equals(k.namespace())) {
                deny = "custom-headers ConfigMap " + ns + "/" + name + " is in another namespace, which is refused";
            } else {
                for (ConfigMap cm : state.configMaps()) {
                    if (cm.getMetadata() != null && name.equals(cm.getMetadata().getName())
                            && ns.equals(cm.getMetadata().getNamespace())) {
                        found = cm;
                        break;
                    }
                }
                if (found == null) {
                    deny = "custom-headers ConfigMap " + ns + "/" + name + " not found";
                }
            }
            if (deny != null) {
                problems.add(deny + "; every location of this Ingress answers 503 (location denied)");
                return a.routeOptions().access() instanceof dev.sluice.gateway.access.AccessPolicy.Denied d
                        ? a.denied(d.reason() + "; " + deny) : a.denied(deny);
            }
            Map<String, String> headers = new TreeMap<>();
            List<String> bad = new ArrayList<>();
            Map<String, String> data = found.getData() == null ? Map.of() : found.getData();
            for (Map.Entry<String, String> e : new TreeMap<>(data).entrySet()) {
                String value = e.getValue() == null ? "" : e.getValue();
                if (HEADER_NAME.matcher(e.getKey()).matches() && HEADER_VALUE.matcher(value).matches()) {
                    headers.put(e.getKey(), value);
                } else {
                    bad.add(e.getKey());
                }
            }
            if (!bad.isEmpty()) {
                problems.add("custom-headers ConfigMap " + ns + "/" + name + ": not a header name and value, skipped: "
                        + String.join(", ", bad));
            }
            HeaderRewrites h = a.routeOptions().headerRewrites();
            return a.withRouteOptions(a.routeOptions().withHeaderRewrites(new HeaderRewrites(h.upstreamHost(), headers,
                    h.redirectFrom(), h.redirectTo(), h.cookieDomainFrom(), h.cookieDomainTo(), h.cookiePathFrom(),
                    h.cookiePathTo())));
        }

        /**
         * {@code server-alias} on one rule host (SPEC §2): the oldest Ingress of a host that
         * declares aliases sets them; an alias already claimed by another host's aliases is
         * reported and skipped (the first claim wins). Aliases that are hosts of their own are
         * dropped when the table is built.
         */
        private void offerAliases(Parsed p, String host) {
            List<String> wanted = p.annotations().lookups().serverAliases();
            if (wanted.isEmpty() || host.isEmpty() || !aliasedHosts.add(host)) {
                return;
            }
            for (String alias : wanted) {
                String owner = aliases.putIfAbsent(alias, host);
                if (owner == null) {
                    aliasSources.put(alias, p.namespace() + "/" + p.name());
                } else if (!owner.equals(host)) {
                    report(p.namespace(), p.name(), "server-alias " + alias + " of host " + host
                            + " is already an alias of host " + owner + " (the oldest wins); ignored");
                }
            }
        }

        /** The backend of an Ingress path or default backend, or {@code null} when it is skipped. */
        private Backend backend(Parsed p, IngressBackend b, String what) {
            if (b == null) {
                report(p.namespace(), p.name(), what + " has no backend; skipped");
                return null;
            }
            if (b.getResource() != null) {
                // SPEC §1.5: ingress-nginx creates no location for non-Service backends
                report(p.namespace(), p.name(), what + ": resource backends are not supported; skipped");
                return null;
            }
            if (b.getService() == null || b.getService().getName() == null) {
                report(p.namespace(), p.name(), what + " has no service backend; skipped");
                return null;
            }
            BackendResolver.Resolution r = backends.resolve(p.namespace(), b.getService(),
                    p.annotations().serviceUpstream());
            if (r.warning() != null) {
                report(p.namespace(), p.name(), r.warning());
            }
            if (r.problem() != null) {
                reportAwaitingObject(p.namespace(), p.name(), r.problem() + " (" + what + " answers 503)");
            } else if (!r.backend().hasEndpoints()) {
                note(p.namespace(), p.name(), "backend " + r.backend().name() + " has no ready endpoints");
            }
            return r.backend();
        }

        /**
         * {@code --default-ssl-certificate}'s certificate, or {@code null} (the proxy's fake
         * certificate) when the flag is not set or the Secret is missing or invalid (a
         * {@link Problem} of kind Secret).
         */
        private TlsCertificate defaultCertificate(TlsSelection selection) {
            String secret = config.defaultSslCertificate();
            if (secret == null || secret.isBlank()) {
                return null;
            }
            int slash = secret.indexOf('/');
            if (slash <= 0 || slash == secret.length() - 1 || secret.indexOf('/', slash + 1) >= 0) {
                problems.add(new Problem("Secret", "", secret,
                        "--default-ssl-certificate must be namespace/name; the generated fake certificate is served "
                                + "as the default"));
                return null;
            }
            String ns = secret.substring(0, slash);
            String name = secret.substring(slash + 1);
            return selection.defaultCertificate(ns, name, m -> problems.add(new Problem("Secret", ns, name, m)));
        }

        /** {@code --default-backend-service}'s first port, or the built-in 404 (SPEC §4.1). */
        private Route controllerDefault() {
            String service = config.defaultBackendService();
            if (service == null || service.isBlank()) {
                return Route.notFound();
            }
            int slash = service.indexOf('/');
            if (slash <= 0 || slash == service.length() - 1 || service.indexOf('/', slash + 1) >= 0) {
                problems.add(new Problem("Service", "", service,
                        "--default-backend-service must be namespace/name; using the built-in 404"));
                return Route.notFound();
            }
            String ns = service.substring(0, slash);
            String name = service.substring(slash + 1);
            Backend b = backends.firstPortBackend(ns, name);
            if (b == null) {
                problems.add(new Problem("Service", ns, name,
                        "--default-backend-service " + service + " not found or has no port; using the built-in 404"));
                return Route.notFound();
            }
            if (!b.hasEndpoints()) {
                // ingress-nginx falls back to its internal 404 server while the service is empty
                notes.add(new Problem("Service", ns, name, "default backend service " + service
                        + " has no ready endpoints; using the built-in 404"));
                return Route.notFound();
            }
            return new Route(new PathMatcher.Prefix("/"), Route.BUILT_IN, b, global.defaultRouteOptions(
                    config.annotationsPrefix(), secrets));
        }

        private RouteTable buildTable() {
            Map<String, HostRoutes> exact = new HashMap<>();
            Map<String, HostRoutes> wildcards = new HashMap<>();
            ProblemSink sink = this::report;
            for (HostBuilder hb : hosts.values()) {
                HostRoutes hr = hb.build(sink, this::regex);
                if (hb.host().startsWith("*.")) {
                    wildcards.put(hb.host().substring(2), hr);
                } else {
                    exact.put(hb.host(), hr);
                }
            }
            // server-alias: a real host of the same name keeps its own routes (ingress-nginx drops the alias)
            for (Map.Entry<String, String> e : aliases.entrySet()) {
                String alias = e.getKey();
                boolean wildcard = alias.startsWith("*.");
                Map<String, HostRoutes> names = wildcard ? wildcards : exact;
                String key = wildcard ? alias.substring(2) : alias;
                HostRoutes target = e.getValue().startsWith("*.") ? wildcards.get(e.getValue().substring(2))
                        : exact.get(e.getValue());
                if (names.containsKey(key)) {
                    String source = aliasSources.get(alias);
                    int slash = source.indexOf('/');
                    report(source.substring(0, slash), source.substring(slash + 1), "server-alias " + alias
                            + " is a host of its own; the alias is ignored");
                } else if (target != null) {
                    names.put(key, target);
                    installedAliases.put(alias, e.getValue());
                }
            }
            // from-to-www-redirect: the twin name redirects unless it is a configured host itself
            for (String target : wwwRedirectHosts) {
                String twin = target.startsWith("www.") ? target.substring(4) : "www." + target;
                if (!twin.isEmpty() && !exact.containsKey(twin)) {
                    exact.put(twin, HostRoutes.wwwRedirect(twin, target));
                }
            }
            return new RouteTable(exact, wildcards, catchAll.build(sink, this::regex));
        }

        private void report(String namespace, String name, String message) {
            problems.add(new Problem(KIND, namespace, name, message));
        }

        /** A problem that goes away once a referenced Service or TLS Secret appears or is fixed. */
        private void reportAwaitingObject(String namespace, String name, String message) {
            Problem p = new Problem(KIND, namespace, name, message);
            problems.add(p);
            awaitingObjects.add(p);
        }

        private void note(String namespace, String name, String message) {
            notes.add(new Problem(KIND, namespace, name, message));
        }

        /** A bug or an object shape nobody foresaw: the problem for the operator, the trace as a note. */
        private void failed(String namespace, String name, RuntimeException e) {
            report(namespace, name, "could not be translated (" + e + "); Ingress left out");
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            note(namespace, name, "translation failed: " + trace);
        }
    }

    /**
     * The lower-case host of a rule: {@code ""} for no host, {@code *.foo.com} for a wildcard,
     * {@code null} when unusable (a {@code *} anywhere but as the whole first label).
     */
    static String hostKey(String host) {
        if (host == null || host.isEmpty()) {
            return "";
        }
        String h = host.trim().toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        for (int i = 0; i < h.length(); i++) {
            if (h.charAt(i) < 0x20 || h.charAt(i) == 0x7f) {
                return null; // never a name a request can carry; reported, not routed
            }
        }
        int star = h.indexOf('*');
        if (star < 0) {
            return h.isEmpty() || h.indexOf('/') >= 0 || h.indexOf(' ') >= 0 ? null : h;
        }
        if (star == 0 && h.startsWith("*.") && h.length() > 2 && h.indexOf('*', 1) < 0) {
            return h;
        }
        return null;
    }

    /** A request target holding one is refused with 400 before routing; such a path could only mislead. */
    private static boolean hasControlCharacter(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < 0x20 || s.charAt(i) == 0x7f) {
                return true;
            }
        }
        return false;
    }

    /** ingress-nginx's SetDefaultNGINXPathType: ImplementationSpecific (or none) is Prefix; {@code null} if unknown. */
    private static PathKind pathKind(String type) {
        if ("Exact".equals(type)) {
            return PathKind.EXACT;
        }
        if (type == null || type.isEmpty() || "Prefix".equals(type) || "ImplementationSpecific".equals(type)) {
            return PathKind.PREFIX;
        }
        return null;
    }

    private static String typeName(PathKind kind) {
        return kind == PathKind.EXACT ? "Exact" : "Prefix";
    }
}
