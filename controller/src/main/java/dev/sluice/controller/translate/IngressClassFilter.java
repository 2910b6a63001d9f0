package dev.sluice.controller.translate;

import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides whether this controller serves an Ingress, exactly as ingress-nginx (SPEC §9.1).
 *
 * <ol>
 *   <li>{@code spec.ingressClassName} set: served only if an IngressClass of that name exists
 *       whose {@code spec.controller} equals {@code --controller-class}; the annotation is then not
 *       consulted.
 *   <li>else annotation {@code kubernetes.io/ingress.class} present: served iff it equals
 *       {@code --ingress-class} exactly ({@code ""} or {@code gce} are not served).
 *   <li>else (no class at all): served only with {@code --watch-ingress-without-class}.
 * </ol>
 */
public final class IngressClassFilter {
    /** The legacy class annotation. */
    public static final String CLASS_ANNOTATION = "kubernetes.io/ingress.class";

    private final TranslatorConfig config;
    private final Set<String> ownClasses = new HashSet<>();

    public IngressClassFilter(TranslatorConfig config, List<IngressClass> classes) {
        this.config = config;
        for (IngressClass c : classes) {
            if (c.getSpec() != null && config.controllerClass().equals(c.getSpec().getController())
                    && c.getMetadata() != null && c.getMetadata().getName() != null) {
                ownClasses.add(c.getMetadata().getName());
            }
        }
    }

    /** Whether this controller serves {@code ingress}. */
    public boolean accepts(Ingress ingress) {
        String className = ingress.getSpec() == null ? null : ingress.getSpec().getIngressClassName();
        if (className != null) {
            return ownClasses.contains(className);
        }
        Map<String, String> annotations = ingress.getMetadata().getAnnotations();
        if (annotations != null && annotations.containsKey(CLASS_ANNOTATION)) {
            return config.ingressClass().equals(annotations.get(CLASS_ANNOTATION));
        }
        return config.watchIngressWithoutClass();
    }

    /**
     * The Ingresses of {@code state} this controller serves, in snapshot order (for the status
     * writer: {@code () -> IngressClassFilter.served(source.snapshot(), config)}).
     */
    public static List<Ingress> served(ClusterState state, TranslatorConfig config) {
        IngressClassFilter filter = new IngressClassFilter(config, state.ingressClasses());
        return state.ingresses().stream().filter(filter::accepts).toList();
    }
}
