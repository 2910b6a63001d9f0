package dev.sluice.controller.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.controller.source.ManifestSource;
import dev.sluice.controller.translate.ClusterState;
import dev.sluice.controller.translate.IngressClassFilter;
import dev.sluice.controller.translate.IngressTranslator;
import dev.sluice.controller.translate.Problem;
import dev.sluice.controller.translate.StreamConfig;
import dev.sluice.controller.translate.Translation;
import dev.sluice.controller.translate.TranslatorConfig;
import dev.sluice.gateway.admin.RouteExplainer;
import dev.sluice.gateway.request.HostNormalizer;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressRule;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sluice explain --manifests DIR URL [-H 'Name: value'] [--cookie name=value]}: translates
 * the manifests as the running controller would and explains how that table routes one request
 * ({@link RouteExplainer}), adding what only the controller knows: Ingresses of the host that are
 * not served because of their class, and the problems reported for them. Text, or {@code --json}.
 *
 * <p>Exit codes: 0 explained, 1 the manifests cannot be read, 2 bad arguments.
 */
@Command(name = "explain", mixinStandardHelpOptions = true, sortOptions = false, addMethodSubcommands = false,
        description = {"Explain how the Ingresses of manifest files route one request: the host and location that"
                + " match and why the others do not, the canary decision, the backend and its endpoints,"
                + " access control and redirects."})
final class ExplainCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "URL", description = "The request, e.g. http://shop.example.com/api/v1?q=1")
    private String url;

    @Option(names = "--manifests", required = true, split = ",", paramLabel = "PATH",
            description = "Files or directories of Kubernetes objects, as for the controller's --manifests.")
    private List<Path> manifests = new ArrayList<>();

    @Option(names = {"-H", "--header"}, paramLabel = "'Name: value'", description = "A request header (repeatable).")
    private List<String> headers = new ArrayList<>();

    @Option(names = "--cookie", paramLabel = "name=value", description = "A request cookie (repeatable).")
    private List<String> cookies = new ArrayList<>();

    @Option(names = {"-X", "--method"}, defaultValue = "GET", paramLabel = "METHOD",
            description = "The request method (default: ${DEFAULT-VALUE}).")
    private String method;

    @Option(names = "--json", description = "JSON instead of text.")
    private boolean json;

    @Option(names = "--ingress-class", defaultValue = TranslatorConfig.DEFAULT_INGRESS_CLASS, paramLabel = "NAME",
            description = "As the controller's flag (default: ${DEFAULT-VALUE}).")
    private String ingressClass;

    @Option(names = "--controller-class", defaultValue = TranslatorConfig.DEFAULT_CONTROLLER_CLASS, paramLabel = "NAME",
            description = "As the controller's flag (default: ${DEFAULT-VALUE}).")
    private String controllerClass;

    @Option(names = "--watch-ingress-without-class", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            paramLabel = "true|false", description = "As the controller's flag (default: ${DEFAULT-VALUE}).")
    private boolean watchIngressWithoutClass;

    @Option(names = "--default-backend-service", paramLabel = "NS/NAME", converter = NamespacedNameConverter.class,
            description = "As the controller's flag.")
    private String defaultBackendService;

    @Option(names = "--annotations-prefix", defaultValue = TranslatorConfig.DEFAULT_ANNOTATIONS_PREFIX,
            paramLabel = "PREFIX", description = "As the controller's flag (default: ${DEFAULT-VALUE}).")
    private String annotationsPrefix;

    @Override
    public Integer call() {
        RouteExplainer.Request request = request();
        for (Path p : manifests) {
            if (!Files.exists(p)) {
                throw new ParameterException(spec.commandLine(), "--manifests: " + p + " does not exist");
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        ClusterState state;
        List<String> fileProblems;
        try (ManifestSource source = new ManifestSource(manifests, () -> { })) {
            source.start();
            state = source.snapshot();
            fileProblems = source.fileProblems();
        } catch (IOException e) {
            spec.commandLine().getErr().println("cannot read the manifests: " + e.getMessage());
            return 1;
        }
        TranslatorConfig config = new TranslatorConfig(ingressClass, controllerClass, watchIngressWithoutClass,
                defaultBackendService, annotationsPrefix, null, new StreamConfig(null, null, Set.of()), false);
        Translation translation = new IngressTranslator(config).translate(state, Instant.now());
        ObjectNode explanation = explain(state, config, translation, fileProblems, request);
        out.print(json ? RouteExplainer.json(explanation) : RouteExplainer.text(explanation));
        out.flush();
        return 0;
    }

    /**
     * {@link RouteExplainer#explain} plus {@code ignored} (the host's Ingresses this controller
     * does not serve, and why) and {@code problems} (those reported for the host's Ingresses and
     * the files).
     */
    static ObjectNode explain(ClusterState state, TranslatorConfig config, Translation translation,
            List<String> fileProblems, RouteExplainer.Request request) {
        ObjectNode explanation = RouteExplainer.explain(translation.table(), request);
        String host = HostNormalizer.normalize(request.host());
        IngressClassFilter filter = new IngressClassFilter(config, state.ingressClasses());
        ArrayNode ignored = explanation.putArray("ignored");
        Set<String> hostIngresses = new LinkedHashSet<>();
        for (Ingress ing : state.ingresses()) {
            if (!namesHost(ing, host)) {
                continue;
            }
            String id = ing.getMetadata().getNamespace() + "/" + ing.getMetadata().getName();
            hostIngresses.add(id);
            if (!filter.accepts(ing)) {
                ignored.add("ingress " + id + " names the host but is not served: " + classOf(ing, config));
            }
        }
        ArrayNode problems = explanation.putArray("problems");
        for (Problem p : translation.problems()) {
            if (hostIngresses.contains(p.namespace() + "/" + p.name())) {
                problems.add(p.toString());
            }
        }
        fileProblems.forEach(problems::add);
        return explanation;
    }

    /** Whether a rule of {@code ing} is for {@code host} (exactly, by wildcard, or host-less). */
    private static boolean namesHost(Ingress ing, String host) {
        if (ing.getSpec() == null || ing.getSpec().getRules() == null) {
            return false;
        }
        for (IngressRule rule : ing.getSpec().getRules()) {
            String h = rule.getHost() == null ? "" : rule.getHost().toLowerCase(java.util.Locale.ROOT);
            if (h.isEmpty() || h.equals(host)
                    || (h.startsWith("*.") && host.endsWith(h.substring(1)) && host.indexOf('.') == host.length()
                            - h.length() + 1)) {
                return true;
            }
        }
        return false;
    }

    private static String classOf(Ingress ing, TranslatorConfig config) {
        String className = ing.getSpec() == null ? null : ing.getSpec().getIngressClassName();
        if (className != null) {
            return "ingressClassName " + className + " is not an IngressClass with controller " + config.controllerClass();
        }
        Map<String, String> annotations = ing.getMetadata().getAnnotations();
        if (annotations != null && annotations.containsKey(IngressClassFilter.CLASS_ANNOTATION)) {
            return IngressClassFilter.CLASS_ANNOTATION + ": " + annotations.get(IngressClassFilter.CLASS_ANNOTATION)
                    + " is not " + config.ingressClass();
        }
        return "no class, and --watch-ingress-without-class is off";
    }

    private RouteExplainer.Request request() {
        Map<String, String> h = new LinkedHashMap<>();
        for (String header : headers) {
            int colon = header.indexOf(':');
            if (colon <= 0) {
                throw new ParameterException(spec.commandLine(), "-H " + header + ": expected 'Name: value'");
            }
            h.put(header.substring(0, colon).trim(), header.substring(colon + 1).trim());
        }
        Map<String, String> c = new LinkedHashMap<>();
        for (String cookie : cookies) {
            int eq = cookie.indexOf('=');
            if (eq <= 0) {
                throw new ParameterException(spec.commandLine(), "--cookie " + cookie + ": expected name=value");
            }
            c.put(cookie.substring(0, eq).trim(), cookie.substring(eq + 1).trim());
        }
        try {
            return RouteExplainer.Request.of(Objects.requireNonNull(url), method, h, c);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "URL: " + e.getMessage());
        }
    }
}
