package dev.sluice.controller.source;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.io.File;
import java.io.UncheckedIOException;
import java.io.FileNotFoundException;

/**
 * Builds the {@link KubernetesClient} for cluster mode, on the JDK HTTP client (no Vert.x, so only
 * one Netty version is on the class path).
 *
 * <p>Configuration as every fabric8 (and client-go) program finds it: with {@code --kubeconfig
 * FILE} that file (its current context); otherwise the in-cluster service account when running in
 * a Pod, else {@code KUBECONFIG}, else {@code ~/.kube/config}.
 */
public final class KubernetesClients {
    private KubernetesClients() {}

    /**
     * @param kubeconfig the {@code --kubeconfig} file, or {@code null} for the default chain
     */
    public static KubernetesClient create(String kubeconfig) {
        Config config;
        if (kubeconfig != null) {
            File file = new File(kubeconfig);
            if (!file.isFile()) {
                throw new UncheckedIOException(new FileNotFoundException("--kubeconfig " + kubeconfig + " is not a file"));
            }
            config = Config.fromKubeconfig(file);
        } else {
            config = Config.autoConfigure(null);
        }
        return new KubernetesClientBuilder()
                .withConfig(config)
                .withHttpClientFactory(new JdkHttpClientFactory())
                .build();
    }
}
