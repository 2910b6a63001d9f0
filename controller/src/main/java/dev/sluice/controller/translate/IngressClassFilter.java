package dev.sluice.controller.translate;

import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import java.util.List;
import java.util.Map;

/**
 * Decides whether Sluice serves an Ingress, as ingress-nginx's class selection does.
 *
 * <ol>
 *   <li>{@code spec.ingressClassName} set: served only if an IngressClass of that name exists
 *       whose {@code spec.controller} equals {@code --controller-class}; the annotation is then not
 *       consulted. {@code ingressClassName: nginx} with an IngressClass {@code nginx} of controller
 *       {@code k8s.io/ingress-nginx} → served (defaults); a missing or foreign class → ignored.
 *   <li>Else annotation {@code kubernetes.io/ingress.class} present: served iff its value equals
 *       {@code --ingress-class} exactly ({@code nginx} → served; {@code ""} or {@code gce} →
 *       ignored).
 *   <li>Else (no class at all): served only with {@code --watch-ingress-without-class}.
 * </ol>
 *
 * <p>Without RBAC to read IngressClasses the class list is empty, so only the annotation selects
 * Ingresses (ingress-nginx's "Without IngressClass Cluster scoped Permission"). The
 * {@code ingressclass.kubernetes.io/is-default-class} annotation is not read here: the API
 * server's admission plugin already writes {@code ingressClassName} into new Ingresses.
 */
public final class IngressClassFilter {
    /** The legacy class annotation. */
    public static final String CLASS_ANNOTATION = "kubernetes.io/ingress.class";

    private IngressClassFilter() {}

    /** Whether {@code ing} belongs to this controller (see the class comment). */
    public static boolean accepts(Ingress ing, List<IngressClass> classes, TranslatorConfig config) {
        String className = ing.getSpec() == null ? null : ing.getSpec().getIngressClassName();
        if (className != null) {
            for (IngressClass c : classes) {
                if (className.equals(c.getMetadata().getName())) {
                    return c.getSpec() != null && config.controllerClass().equals(c.getSpec().getController());
                }
            }
            return false;
        }
        Map<String, String> annotations = ing.getMetadata().getAnnotations();
        if (annotations != null && annotations.containsKey(CLASS_ANNOTATION)) {
            return config.ingressClass().equals(annotations.get(CLASS_ANNOTATION));
        }
        return config.watchIngressWithoutClass();
    }

    /** The Ingresses of {@code state} that {@link #accepts} selects, in their snapshot order. */
    public static List<Ingress> served(ClusterState state, TranslatorConfig config) {
        return state.ingresses().stream().filter(i -> accepts(i, state.ingressClasses(), config)).toList();
    }
}
