package dev.sluice.controller.translate;

/**
 * A rough, JMH-free timing of the translator on a large synthetic cluster (not a test; never run
 * by Maven). Run from the worktree root after {@code mvn -o -pl controller -am test-compile}:
 *
 * <pre>
 * java -cp "controller/target/test-classes:controller/target/classes:gateway/target/classes:$(cat cp.txt)" \
 *     dev.sluice.controller.translate.TranslatorTiming 10000
 * </pre>
 *
 * (with {@code cp.txt} from {@code mvn -o -q -pl controller dependency:build-classpath -Dmdep.outputFile=cp.txt}).
 */
public final class TranslatorTiming {
    private TranslatorTiming() {}

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        ClusterState state = LargeClusters.of(n);
        IngressTranslator translator = new IngressTranslator(TranslatorConfig.DEFAULTS);
        Translation last = null;
        for (int round = 1; round <= 15; round++) {
            long start = System.nanoTime();
            Translation t = translator.translate(state, java.time.Instant.now());
            long micros = (System.nanoTime() - start) / 1_000;
            if (last != null && !last.table().equals(t.table())) {
                throw new IllegalStateException("translation is not deterministic");
            }
            last = t;
            System.out.printf("round %2d: %d Ingresses x 3 paths -> %d hosts in %.1f ms%n", round, n,
                    t.table().hosts().size(), micros / 1000.0);
        }
    }
}
