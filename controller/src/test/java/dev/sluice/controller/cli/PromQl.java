package dev.sluice.controller.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small PromQL evaluator over scrapes of the Prometheus text format, for the queries that
 * dashboards, alert rules and Flagger run on ingress-nginx's metrics: selectors with
 * {@code = != =~ !~} matchers and {@code [range]}; {@code rate}, {@code irate}, {@code increase},
 * {@code avg_over_time}, {@code changes}; {@code sum avg count min max} with {@code by (…)} before or after the
 * argument; {@code histogram_quantile}, {@code round}, {@code time()}; {@code + - * /} and
 * comparisons (vector with scalar filters, vector with vector matches identical label sets);
 * {@code label_values(selector, label)} as Grafana's variable queries.
 *
 * <p>As Prometheus, scraping attaches target labels ({@code namespace}, {@code pod},
 * {@code kubernetes_pod_name}, {@code job}, {@code instance}); a metric's own label of the same
 * name becomes {@code exported_<name>} ({@code honor_labels: false}). Rates are computed between
 * the first and last sample of the window, without Prometheus' extrapolation to its edges: the
 * values differ slightly, presence and absence of data do not.
 */
final class PromQl {
    /** A series: its labels ({@code __name__} included) and samples by time in ms. */
    record Series(Map<String, String> labels, NavigableMap<Long, Double> samples) {}

    /** One element of an instant vector. */
    record Sample(Map<String, String> labels, double value) {}

    private static final long LOOKBACK_MS = 5 * 60_000;
    private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? (\\S+)(?: \\d+)?$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

    private final Map<Map<String, String>, Series> series = new LinkedHashMap<>();
    private final Map<String, String> target;

    /** @param targetLabels the labels Prometheus attaches to every series of the scraped target */
    PromQl(Map<String, String> targetLabels) {
        this.target = Map.copyOf(targetLabels);
    }

    /** Adds a scrape taken at {@code timeMs}. */
    void scrape(String text, long timeMs) {
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                throw new IllegalArgumentException("not a sample line: " + line);
            }
            Map<String, String> labels = new TreeMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2).replace("\\\"", "\"").replace("\\\\", "\\"));
                }
            }
            for (Map.Entry<String, String> t : target.entrySet()) {
                String own = labels.remove(t.getKey());
                if (own != null) {
                    labels.put("exported_" + t.getKey(), own);
                }
                labels.put(t.getKey(), t.getValue());
            }
            labels.put("__name__", m.group(1));
            double value = switch (m.group(4)) {
                case "+Inf" -> Double.POSITIVE_INFINITY;
                case "-Inf" -> Double.NEGATIVE_INFINITY;
                case "NaN" -> Double.NaN;
                default -> Double.parseDouble(m.group(4));
            };
            Map<String, String> key = Map.copyOf(labels);
            series.computeIfAbsent(key, k -> new Series(new TreeMap<>(labels), new TreeMap<>()))
                    .samples().put(timeMs, value);
        }
    }

    /** Grafana's {@code label_values(selector, label)}: the label's distinct values, sorted. */
    Set<String> labelValues(String query, long timeMs) {
        Matcher m = Pattern.compile("^label_values\\((.*),\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*\\)$").matcher(query.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not label_values(selector, label): " + query);
        }
        Object v = evaluate(m.group(1), timeMs);
        Set<String> out = new TreeSet<>();
        for (Sample s : vector(v)) {
            String value = s.labels().get(m.group(2));
            if (value != null && !value.isEmpty()) {
                out.add(value);
            }
        }
        return out;
    }

    /** Evaluates {@code query} at {@code timeMs}: a {@code Double} (scalar) or a {@code List<Sample>}. */
    Object evaluate(String query, long timeMs) {
        Parser p = new Parser(query, timeMs);
        Object v = p.expr();
        p.skip();
        if (p.pos != query.length()) {
            throw new IllegalArgumentException("unexpected '" + query.substring(p.pos) + "' in " + query);
        }
        return v;
    }

    @SuppressWarnings("unchecked")
    static List<Sample> vector(Object v) {
        if (!(v instanceof List<?>)) {
            throw new IllegalArgumentException("expected a vector, got " + v);
        }
        return (List<Sample>) v;
    }

    /** A range selector's result: the selected series with their samples in the window. */
    private record Range(List<Series> series) {}

    private final class Parser {
        private final String s;
        private final long now;
        private int pos;

        Parser(String s, long now) {
            this.s = s;
            this.now = now;
        }

        void skip() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        boolean eat(String token) {
            skip();
            if (s.startsWith(token, pos)) {
                pos += token.length();
                return true;
            }
            return false;
        }

        void expect(String token) {
            if (!eat(token)) {
                throw new IllegalArgumentException("expected '" + token + "' at " + pos + " in " + s);
            }
        }

        String ident() {
            skip();
            int start = pos;
            while (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '_'
                    || s.charAt(pos) == ':')) {
                pos++;
            }
            return s.substring(start, pos);
        }

        Object expr() {
            Object left = additive();
            for (String op : new String[] {"==", "!=", ">=", "<=", ">", "<"}) {
                if (eat(op)) {
                    return compare(left, op, additive());
                }
            }
            return left;
        }

        Object additive() {
            Object left = multiplicative();
            while (true) {
                if (eat("+")) {
                    left = arithmetic(left, '+', multiplicative());
                } else if (peekMinus()) {
                    pos++;
                    left = arithmetic(left, '-', multiplicative());
                } else {
                    return left;
                }
            }
        }

        private boolean peekMinus() {
            skip();
            return pos < s.length() && s.charAt(pos) == '-';
        }

        Object multiplicative() {
            Object left = unary();
            while (true) {
                if (eat("*")) {
                    left = arithmetic(left, '*', unary());
                } else if (eat("/")) {
                    left = arithmetic(left, '/', unary());
                } else {
                    return left;
                }
            }
        }

        Object unary() {
            if (eat("-")) {
                return arithmetic(0.0, '-', unary());
            }
            return primary();
        }

        Object primary() {
            skip();
            char c = s.charAt(pos);
            if (c == '(') {
                pos++;
                Object v = expr();
                expect(")");
                return v;
            }
            if (Character.isDigit(c) || c == '.') {
                int start = pos;
                while (pos < s.length() && (Character.isDigit(s.charAt(pos)) || s.charAt(pos) == '.')) {
                    pos++;
                }
                return Double.parseDouble(s.substring(start, pos));
            }
            int start = pos;
            String name = ident();
            switch (name) {
                case "sum", "avg", "count", "min", "max" -> {
                    return aggregation(name);
                }
                case "rate", "irate", "increase", "avg_over_time", "changes" -> {
                    expect("(");
                    Range r = range();
                    expect(")");
                    return overTime(name, r);
                }
                case "histogram_quantile" -> {
                    expect("(");
                    double q = scalar(expr());
                    expect(",");
                    Object v = expr();
                    expect(")");
                    return histogramQuantile(q, vector(v));
                }
                case "round" -> {
                    expect("(");
                    Object v = expr();
                    double to = 1;
                    if (eat(",")) {
                        to = scalar(expr());
                    }
                    expect(")");
                    double unit = to;
                    return map(v, x -> Math.floor(x / unit + 0.5) * unit);
                }
                case "time" -> {
                    expect("(");
                    expect(")");
                    return now / 1000.0;
                }
                default -> {
                    pos = start;
                    Object sel = selector();
                    if (sel instanceof Range) {
                        throw new IllegalArgumentException("a range vector outside a function in " + s);
                    }
                    return sel;
                }
            }
        }

        Range range() {
            Object sel = selector();
            if (!(sel instanceof Range r)) {
                throw new IllegalArgumentException("expected a range selector at " + pos + " in " + s);
            }
            return r;
        }

        /** {@code name{matchers}} (instant: latest sample in the look-back) or {@code …[range]}. */
        Object selector() {
            String name = ident();
            if (name.isEmpty()) {
                throw new IllegalArgumentException("expected a selector at " + pos + " in " + s);
            }
            List<String[]> matchers = new ArrayList<>();
            matchers.add(new String[] {"__name__", "=", name});
            if (eat("{")) {
                while (!eat("}")) {
                    String label = ident();
                    skip();
                    String op = s.startsWith("=~", pos) ? "=~" : s.startsWith("!~", pos) ? "!~"
                            : s.startsWith("!=", pos) ? "!=" : "=";
                    pos += op.length();
                    skip();
                    matchers.add(new String[] {label, op, string()});
                    eat(",");
                }
            }
            List<Series> selected = new ArrayList<>();
            for (Series ser : series.values()) {
                if (matchesAll(ser.labels(), matchers)) {
                    selected.add(ser);
                }
            }
            if (eat("[")) {
                int close = s.indexOf(']', pos);
                long window = duration(s.substring(pos, close).trim());
                pos = close + 1;
                List<Series> windowed = new ArrayList<>();
                for (Series ser : selected) {
                    NavigableMap<Long, Double> in = ser.samples().subMap(now - window, false, now, true);
                    if (!in.isEmpty()) {
                        windowed.add(new Series(ser.labels(), in));
                    }
                }
                return new Range(windowed);
            }
            List<Sample> out = new ArrayList<>();
            for (Series ser : selected) {
                Map.Entry<Long, Double> last = ser.samples().floorEntry(now);
                if (last != null && last.getKey() > now - LOOKBACK_MS) {
                    out.add(new Sample(ser.labels(), last.getValue()));
                }
            }
            return out;
        }

        String string() {
            skip();
            char quote = s.charAt(pos);
            if (quote != '"' && quote != '\'') {
                throw new IllegalArgumentException("expected a string at " + pos + " in " + s);
            }
            StringBuilder b = new StringBuilder();
            pos++;
            while (s.charAt(pos) != quote) {
                char c = s.charAt(pos++);
                if (c == '\\') {
                    char n = s.charAt(pos++);
                    b.append(n == 'n' ? '\n' : n);
                } else {
                    b.append(c);
                }
            }
            pos++;
            return b.toString();
        }

        Object aggregation(String op) {
            List<String> by = null;
            if (eat("by")) {
                by = labelList();
            }
            expect("(");
            List<Sample> in = vector(expr());
            expect(")");
            if (eat("by")) {
                by = labelList();
            }
            Map<Map<String, String>, List<Double>> groups = new LinkedHashMap<>();
            for (Sample smp : in) {
                Map<String, String> key = new TreeMap<>();
                if (by != null) {
                    for (String l : by) {
                        String v = smp.labels().get(l);
                        if (v != null && !v.isEmpty()) {
                            key.put(l, v);
                        }
                    }
                }
                groups.computeIfAbsent(key, k -> new ArrayList<>()).add(smp.value());
            }
            List<Sample> out = new ArrayList<>();
            for (Map.Entry<Map<String, String>, List<Double>> g : groups.entrySet()) {
                List<Double> v = g.getValue();
                double r = switch (op) {
                    case "sum" -> v.stream().mapToDouble(Double::doubleValue).sum();
                    case "avg" -> v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
                    case "count" -> v.size();
                    case "min" -> v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
                    default -> v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
                };
                out.add(new Sample(g.getKey(), r));
            }
            return out;
        }

        List<String> labelList() {
            expect("(");
            List<String> labels = new ArrayList<>();
            while (!eat(")")) {
                labels.add(ident());
                eat(",");
            }
            return labels;
        }

        Object overTime(String fn, Range r) {
            List<Sample> out = new ArrayList<>();
            for (Series ser : r.series()) {
                NavigableMap<Long, Double> w = ser.samples();
                Map<String, String> labels = new TreeMap<>(ser.labels());
                labels.remove("__name__");
                if (fn.equals("changes")) {
                    int changes = 0;
                    Double previous = null;
                    for (double v : w.values()) {
                        if (previous != null && v != previous) {
                            changes++;
                        }
                        previous = v;
                    }
                    out.add(new Sample(labels, changes));
                    continue;
                }
                if (fn.equals("avg_over_time")) {
                    out.add(new Sample(labels, w.values().stream().mapToDouble(Double::doubleValue).average()
                            .orElseThrow()));
                    continue;
                }
                if (w.size() < 2) {
                    continue; // Prometheus needs two samples for a rate too
                }
                Map.Entry<Long, Double> first = fn.equals("irate") ? w.lowerEntry(w.lastKey()) : w.firstEntry();
                Map.Entry<Long, Double> last = w.lastEntry();
                double delta = increase(w.subMap(first.getKey(), true, last.getKey(), true));
                double seconds = (last.getKey() - first.getKey()) / 1000.0;
                out.add(new Sample(labels, fn.equals("increase") ? delta : delta / seconds));
            }
            return out;
        }

        /** The increase of a counter over samples, across resets (a drop starts from zero). */
        private double increase(NavigableMap<Long, Double> w) {
            double total = 0;
            Double previous = null;
            for (double v : w.values()) {
                if (previous != null) {
                    total += v >= previous ? v - previous : v;
                }
                previous = v;
            }
            return total;
        }
    }

    private static boolean matchesAll(Map<String, String> labels, List<String[]> matchers) {
        for (String[] m : matchers) {
            String v = labels.getOrDefault(m[0], "");
            boolean ok = switch (m[1]) {
                case "=" -> v.equals(m[2]);
                case "!=" -> !v.equals(m[2]);
                case "=~" -> Pattern.compile("^(?:" + m[2] + ")$").matcher(v).matches();
                default -> !Pattern.compile("^(?:" + m[2] + ")$").matcher(v).matches();
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static long duration(String d) {
        long n = Long.parseLong(d.substring(0, d.length() - 1));
        return switch (d.charAt(d.length() - 1)) {
            case 's' -> n * 1000;
            case 'm' -> n * 60_000;
            case 'h' -> n * 3_600_000;
            default -> throw new IllegalArgumentException("unsupported duration " + d);
        };
    }

    private static double scalar(Object v) {
        if (v instanceof Double d) {
            return d;
        }
        throw new IllegalArgumentException("expected a scalar, got " + v);
    }

    private static Object map(Object v, java.util.function.DoubleUnaryOperator f) {
        if (v instanceof Double d) {
            return f.applyAsDouble(d);
        }
        List<Sample> out = new ArrayList<>();
        for (Sample smp : vector(v)) {
            out.add(new Sample(withoutName(smp.labels()), f.applyAsDouble(smp.value())));
        }
        return out;
    }

    private static Map<String, String> withoutName(Map<String, String> labels) {
        Map<String, String> l = new TreeMap<>(labels);
        l.remove("__name__");
        return l;
    }

    private static Object arithmetic(Object a, char op, Object b) {
        if (a instanceof Double x && b instanceof Double y) {
            return apply(x, op, y);
        }
        if (a instanceof Double x) {
            return map(b, y -> apply(x, op, y));
        }
        if (b instanceof Double y) {
            return map(a, x -> apply(x, op, y));
        }
        Map<Map<String, String>, Double> right = new HashMap<>();
        for (Sample smp : vector(b)) {
            right.put(withoutName(smp.labels()), smp.value());
        }
        List<Sample> out = new ArrayList<>();
        for (Sample smp : vector(a)) {
            Map<String, String> key = withoutName(smp.labels());
            Double y = right.get(key);
            if (y != null) {
                out.add(new Sample(key, apply(smp.value(), op, y)));
            }
        }
        return out;
    }

    private static double apply(double x, char op, double y) {
        return switch (op) {
            case '+' -> x + y;
            case '-' -> x - y;
            case '*' -> x * y;
            default -> x / y;
        };
    }

    private static Object compare(Object a, String op, Object b) {
        if (!(b instanceof Double y)) {
            throw new IllegalArgumentException("only comparisons with a scalar are supported");
        }
        if (a instanceof Double x) {
            return test(x, op, y) ? 1.0 : 0.0;
        }
        List<Sample> out = new ArrayList<>();
        for (Sample smp : vector(a)) {
            if (test(smp.value(), op, y)) {
                out.add(smp);
            }
        }
        return out;
    }

    private static boolean test(double x, String op, double y) {
        return switch (op) {
            case "==" -> x == y;
            case "!=" -> x != y;
            case ">=" -> x >= y;
            case "<=" -> x <= y;
            case ">" -> x > y;
            default -> x < y;
        };
    }

    /** Prometheus' {@code histogram_quantile}: linear interpolation within the bucket of the rank. */
    private static List<Sample> histogramQuantile(double q, List<Sample> buckets) {
        Map<Map<String, String>, TreeMap<Double, Double>> byGroup = new LinkedHashMap<>();
        for (Sample smp : buckets) {
            Map<String, String> key = withoutName(smp.labels());
            String le = key.remove("le");
            if (le == null) {
                continue;
            }
            double bound = le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
            byGroup.computeIfAbsent(key, k -> new TreeMap<>()).merge(bound, smp.value(), Double::sum);
        }
        List<Sample> out = new ArrayList<>();
        for (Map.Entry<Map<String, String>, TreeMap<Double, Double>> g : byGroup.entrySet()) {
            TreeMap<Double, Double> b = g.getValue();
            if (!b.containsKey(Double.POSITIVE_INFINITY) || b.size() < 2) {
                out.add(new Sample(g.getKey(), Double.NaN));
                continue;
            }
            double total = b.get(Double.POSITIVE_INFINITY);
            if (total == 0) {
                out.add(new Sample(g.getKey(), Double.NaN));
                continue;
            }
            double rank = q * total;
            double lower = 0;
            double below = 0;
            double result = Double.NaN;
            for (Map.Entry<Double, Double> e : b.entrySet()) {
                if (e.getValue() >= rank) {
                    if (e.getKey() == Double.POSITIVE_INFINITY) {
                        result = lower; // the upper bound of the highest finite bucket
                    } else {
                        double inBucket = e.getValue() - below;
                        result = lower + (e.getKey() - lower) * (inBucket == 0 ? 0 : (rank - below) / inBucket);
                    }
                    break;
                }
                lower = e.getKey();
                below = e.getValue();
            }
            out.add(new Sample(g.getKey(), result));
        }
        return out;
    }
}
