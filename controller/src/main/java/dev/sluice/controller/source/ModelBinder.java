package dev.sluice.controller.source;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.IntOrString;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Binds a parsed manifest tree to a fabric8 model class through its setters, as Jackson's
 * {@code ObjectMapper.treeToValue} does for those classes, at a small part of the cost on a fresh
 * JVM: Jackson builds a bean deserializer per class (annotations, creators, type resolution — some
 * 500 classes of its own and half a second of CPU before the first manifest is read), this reads
 * each class's setters once.
 *
 * <p>The model classes are plain beans: a public no-argument constructor, a setter per JSON field
 * named after it ({@code spec.ingressClassName} → {@code setIngressClassName}), and
 * {@code setAdditionalProperty} for the fields the model does not know. Values are read as Jackson
 * reads them by default: a number or a boolean where a string is expected becomes its text
 * ({@code port: 80} for a name), a string of digits where a number is expected becomes the number
 * ({@code number: "80"}), a floating-point number where an integer is expected loses its fraction,
 * {@code "true"}/{@code "false"} and 0/1 are booleans; {@code IntOrString} takes an integer or a
 * string. Anything else that does not fit (a string where a list or a mapping is expected, a
 * mapping where a string is) is an {@link Mismatch} naming the field's path.
 *
 * <p>Tested against Jackson field for field ({@code ModelBinderTest}).
 */
final class ModelBinder {

    /** A value that does not fit the field it is given for; {@link #path} is where (names and indexes). */
    static final class Mismatch extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient List<Object> path;

        Mismatch(Deque<Object> path, String message) {
            super(message, null, false, false);
            List<Object> outermostFirst = new ArrayList<>(path.size());
            path.descendingIterator().forEachRemaining(outermostFirst::add);
            this.path = List.copyOf(outermostFirst);
        }

        /** Field names ({@link String}) and list indexes ({@link Integer}), outermost first. */
        List<Object> path() {
            return path;
        }
    }

    private record Property(Method setter, Type type) {}

    private record Model(Map<String, Property> properties, Method additionalProperty) {}

    private static final ClassValue<Model> MODELS = new ClassValue<>() {
        @Override
        protected Model computeValue(Class<?> type) {
            return model(type);
        }
    };

    private ModelBinder() {}

    /** {@code tree} (a mapping) as an instance of {@code type}. */
    static <T> T bind(JsonNode tree, Class<T> type) throws Mismatch {
        return type.cast(bean(tree, type, new ArrayDeque<>()));
    }

    private static Model model(Class<?> type) {
        Map<String, String> fieldNames = new HashMap<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (!Modifier.isStatic(f.getModifiers())) {
                    fieldNames.putIfAbsent(f.getName().toLowerCase(Locale.ROOT), f.getName());
                }
            }
        }
        Map<String, Property> properties = new HashMap<>();
        Method additional = null;
        for (Method m : type.getMethods()) {
            String name = m.getName();
            if (m.getParameterCount() == 2 && name.equals("setAdditionalProperty")) {
                additional = m;
            } else if (m.getParameterCount() == 1 && name.startsWith("set") && name.length() > 3
                    && !Modifier.isStatic(m.getModifiers()) && !name.equals("setAdditionalProperties")) {
                String suffix = name.substring(3);
                String property = fieldNames.getOrDefault(suffix.toLowerCase(Locale.ROOT),
                        Character.toLowerCase(suffix.charAt(0)) + suffix.substring(1));
                properties.put(property, new Property(m, m.getGenericParameterTypes()[0]));
            }
        }
        return new Model(Map.copyOf(properties), additional);
    }

    private static Object bean(JsonNode node, Class<?> type, Deque<Object> path) throws Mismatch {
        if (!node.isObject()) {
            throw mismatch(path, type, node);
        }
        Model model = MODELS.get(type);
        Object bean;
        try {
            bean = type.getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot make a " + type.getName(), e);
        }
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            path.push(field.getKey());
            Property p = model.properties().get(field.getKey());
            if (p != null) {
                set(p.setter(), bean, value(field.getValue(), p.type(), path));
            } else if (model.additionalProperty() != null) {
                set(model.additionalProperty(), bean, field.getKey(), untyped(field.getValue()));
            }
            path.pop();
        }
        return bean;
    }

    private static void set(Method setter, Object bean, Object... args) {
        try {
            setter.invoke(bean, args);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot call " + setter, e);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("cannot call " + setter, e.getCause());
        }
    }

    private static Object value(JsonNode node, Type type, Deque<Object> path) throws Mismatch {
        if (node.isNull()) {
            return null;
        }
        if (type instanceof ParameterizedType p && p.getRawType() instanceof Class<?> raw) {
            Type element = p.getActualTypeArguments()[p.getActualTypeArguments().length - 1];
            if (List.class.isAssignableFrom(raw)) {
                if (!node.isArray()) {
                    throw mismatch(path, type, node);
                }
                List<Object> out = new ArrayList<>(node.size());
                for (int i = 0; i < node.size(); i++) {
                    path.push(i);
                    out.add(value(node.get(i), element, path));
                    path.pop();
                }
                return out;
            }
            if (Map.class.isAssignableFrom(raw)) {
                if (!node.isObject()) {
                    throw mismatch(path, type, node);
                }
                Map<String, Object> out = new LinkedHashMap<>();
                for (Map.Entry<String, JsonNode> e : node.properties()) {
                    path.push(e.getKey());
                    out.put(e.getKey(), value(e.getValue(), element, path));
                    path.pop();
                }
                return out;
            }
            throw unsupported(path, type);
        }
        Class<?> c = (Class<?>) type;
        if (c == String.class) {
            if (node.isValueNode()) {
                return node.asText();
            }
        } else if (c == Integer.class || c == int.class) {
            Long v = integral(node);
            if (v != null && v == v.intValue()) {
                return v.intValue();
            }
        } else if (c == Long.class || c == long.class) {
            Long v = integral(node);
            if (v != null) {
                return v;
            }
        } else if (c == Boolean.class || c == boolean.class) {
            if (node.isBoolean()) {
                return node.booleanValue();
            }
            if (node.isIntegralNumber()) {
                return node.longValue() != 0;
            }
            if (node.isTextual() && (node.textValue().equalsIgnoreCase("true") || node.textValue().equalsIgnoreCase("false"))) {
                return Boolean.parseBoolean(node.textValue());
            }
        } else if (c == IntOrString.class) {
            if (node.isIntegralNumber() && node.canConvertToInt()) {
                return new IntOrString(node.intValue());
            }
            if (node.isTextual()) {
                return new IntOrString(node.textValue());
            }
        } else if (c == Object.class) {
            return untyped(node);
        } else if (c.getName().startsWith("io.fabric8.")) {
            return bean(node, c, path);
        } else {
            throw unsupported(path, type);
        }
        throw mismatch(path, type, node);
    }

    /** An integer from a number (a fraction dropped) or from a string of one; {@code null} if neither. */
    private static Long integral(JsonNode node) {
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            return node.longValue();
        }
        if (node.isFloatingPointNumber()) {
            BigDecimal d = node.decimalValue();
            return d.abs().compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) < 0 ? d.longValue() : null;
        }
        if (node.isTextual()) {
            try {
                return Long.parseLong(node.textValue().trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    /** A value of a field the model does not name, as Jackson makes it for {@code Object}. */
    private static Object untyped(JsonNode node) {
        if (node.isObject()) {
            Map<String, Object> out = new LinkedHashMap<>();
            node.properties().forEach(e -> out.put(e.getKey(), untyped(e.getValue())));
            return out;
        }
        if (node.isArray()) {
            List<Object> out = new ArrayList<>(node.size());
            node.forEach(e -> out.add(untyped(e)));
            return out;
        }
        if (node.isIntegralNumber()) {
            BigInteger v = node.bigIntegerValue();
            return v.bitLength() < 32 ? (Object) v.intValue() : v.bitLength() < 64 ? (Object) v.longValue() : v;
        }
        if (node.isNumber()) {
            return node.doubleValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        return node.isNull() ? null : node.asText();
    }

    /** A field of a type the model of these kinds does not use today; reported, not a crash, should one appear. */
    private static Mismatch unsupported(Deque<Object> path, Type type) {
        return new Mismatch(path, "Sluice cannot read a field of type " + type.getTypeName() + " from a manifest");
    }

    private static Mismatch mismatch(Deque<Object> path, Type expected, JsonNode found) {
        return new Mismatch(path, "expected " + describe(expected) + ", found "
                + found.getNodeType().toString().toLowerCase(Locale.ROOT)
                + (found.isValueNode() ? " " + found : ""));
    }

    private static String describe(Type type) {
        if (type instanceof ParameterizedType p && p.getRawType() instanceof Class<?> raw) {
            return List.class.isAssignableFrom(raw) ? "a list" : "a mapping";
        }
        Class<?> c = (Class<?>) type;
        if (c == String.class) {
            return "a string";
        }
        if (c == Integer.class || c == int.class || c == Long.class || c == long.class) {
            return "an integer";
        }
        if (c == Boolean.class || c == boolean.class) {
            return "true or false";
        }
        if (c == IntOrString.class) {
            return "an integer or a string";
        }
        return "a mapping (" + c.getSimpleName() + ")";
    }
}
