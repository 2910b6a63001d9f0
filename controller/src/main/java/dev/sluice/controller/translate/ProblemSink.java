package dev.sluice.controller.translate;

/**
 * Receives a problem about one Ingress while a translation runs; the translator turns each into a
 * {@link Problem} of kind {@code Ingress}. Shared by the passes that find problems (host building,
 * TLS selection) so they report the same way.
 */
@FunctionalInterface
interface ProblemSink {
    /**
     * @param namespace the Ingress's namespace
     * @param name      the Ingress's name
     * @param message   what is wrong and what Sluice does about it
     */
    void report(String namespace, String name, String message);
}
