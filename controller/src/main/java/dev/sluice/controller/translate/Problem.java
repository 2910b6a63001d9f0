package dev.sluice.controller.translate;

import java.util.Objects;

/**
 * Something wrong with one Kubernetes object that the translator worked around (skipped a path,
 * ignored an annotation value, answered 503). Reported in logs, metrics and, in cluster mode, as a
 * Kubernetes Event on the object.
 *
 * @param kind      object kind, e.g. {@code Ingress}
 * @param namespace object namespace
 * @param name      object name
 * @param message   what is wrong and what Sluice does about it
 */
public record Problem(String kind, String namespace, String name, String message) {
    public Problem {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return kind + " " + namespace + "/" + name + ": " + message;
    }
}
