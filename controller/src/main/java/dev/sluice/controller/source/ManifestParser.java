package dev.sluice.controller.source;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parses YAML (multi-document, {@code kind: List}) and JSON into the objects Sluice keeps.
 *
 * <p>Kept: Ingress ({@code networking.k8s.io/v1}, and the legacy {@code extensions/v1beta1} and
 * {@code networking.k8s.io/v1beta1} forms, converted as the API server converts them:
 * {@code serviceName}/{@code servicePort} become {@code service.name}/{@code service.port.number}
 * (a number, or a string of digits) or {@code .name}, {@code spec.backend} becomes
 * {@code spec.defaultBackend}, a path without {@code pathType} becomes
 * {@code ImplementationSpecific}), IngressClass, Service, Endpoints, EndpointSlice, Secret,
 * ConfigMap (for {@code --tcp-services-configmap} / {@code --udp-services-configmap}). Every
 * other kind is ignored. A missing namespace becomes {@code default}.
 *
 * <p>Any error — a syntax error, or a kept kind whose structure does not fit its model (for
 * example {@code spec.rules} as a string, or no {@code metadata.name}) — fails the whole file with
 * a {@link ManifestException} naming the line.
 */
public final class ManifestParser {
    private static final Logger log = LoggerFactory.getLogger(ManifestParser.class);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final YAMLFactory YAML = new YAMLFactory();
    private static final JsonFactory JSON = new JsonFactory();

    private static final String V1 = "networking.k8s.io/v1";

    private ManifestParser() {}

    /**
     * Parses one file.
     *
     * @param fileName used in messages; a name ending in {@code .json} is read as JSON, anything
     *                 else as YAML
     * @param content  the file content
     */
    public static ParsedManifest parse(String fileName, String content) throws ManifestException {
        List<HasMetadata> out = new ArrayList<>();
        JsonFactory factory = fileName.toLowerCase(java.util.Locale.ROOT).endsWith(".json") ? JSON : YAML;
        try (JsonParser p = factory.createParser(content)) {
            while (p.nextToken() != null) {
                LocatedTree tree = new LocatedTree(p);
                JsonNode doc = tree.root();
                if (doc.isNull()) {
                    continue; // empty YAML document
                }
                keep(fileName, tree, doc, "", out);
            }
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            int line = loc == null ? 1 : Math.max(1, loc.getLineNr());
            String reason = e.getOriginalMessage();
            if (e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException y && y.getProblem() != null) {
                // SnakeYAML's message spans several lines with excerpts; keep "context: problem"
                reason = (y.getContext() != null ? y.getContext() + ": " : "") + y.getProblem();
                if (y.getProblemMark() != null) {
                    line = y.getProblemMark().getLine() + 1;
                }
            }
            throw new ManifestException(fileName, line, reason, e);
        } catch (IOException e) {
            throw new ManifestException(fileName, 1, e.toString(), e);
        }
        return new ParsedManifest(fileName, out);
    }

    private static void keep(String file, LocatedTree tree, JsonNode node, String pointer, List<HasMetadata> out)
            throws ManifestException {
        if (!node.isObject()) {
            throw new ManifestException(file, tree.line(pointer), "expected a Kubernetes object (a mapping), found "
                    + node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT), null);
        }
        String kind = node.path("kind").asText("");
        String apiVersion = node.path("apiVersion").asText("");
        if (kind.equals("List") || kind.endsWith("List") && node.has("items")) {
            JsonNode items = node.path("items");
            if (items.isMissingNode() || items.isNull()) {
                return;
            }
            if (!items.isArray()) {
                throw new ManifestException(file, tree.line(pointer + "/items"), "items of a List must be a sequence",
                        null);
            }
            for (int i = 0; i < items.size(); i++) {
                keep(file, tree, items.get(i), pointer + "/items/" + i, out);
            }
            return;
        }
        Class<? extends HasMetadata> type = switch (kind) {
            case "Ingress" -> Ingress.class;
            case "IngressClass" -> IngressClass.class;
            case "Service" -> Service.class;
            case "Endpoints" -> Endpoints.class;
            case "EndpointSlice" -> EndpointSlice.class;
            case "Secret" -> Secret.class;
            case "ConfigMap" -> ConfigMap.class;
            default -> null;
        };
        if (type == null) {
            log.debug("{}:{}: kind {} ignored", file, tree.line(pointer), kind.isEmpty() ? "(none)" : kind);
            return;
        }
        ObjectNode obj = ((ObjectNode) node).deepCopy();
        JsonNode meta = obj.get("metadata");
        if (meta == null || !meta.isObject() || !meta.path("name").isTextual() || meta.path("name").asText().isEmpty()) {
            throw new ManifestException(file, tree.line(pointer + "/metadata"), kind + " without metadata.name", null);
        }
        JsonNode ns = meta.get("namespace");
        if (ns == null || ns.isNull() || ns.asText().isEmpty()) {
            ((ObjectNode) meta).put("namespace", "default");
        }
        if (type == Ingress.class) {
            if (apiVersion.equals("extensions/v1beta1") || apiVersion.equals("networking.k8s.io/v1beta1")) {
                convertLegacyIngress(obj);
            } else if (!apiVersion.equals(V1)) {
                throw new ManifestException(file, tree.line(pointer + "/apiVersion"),
                        "Ingress apiVersion \"" + apiVersion + "\" is not supported (use " + V1 + ")", null);
            }
        }
        try {
            out.add(ModelBinder.bind(obj, type));
        } catch (ModelBinder.Mismatch e) {
            StringBuilder at = new StringBuilder(pointer);
            StringBuilder where = new StringBuilder();
            for (Object step : e.path()) {
                if (step instanceof String name) {
                    at.append('/').append(LocatedTree.escape(name));
                    where.append(where.length() == 0 ? "" : ".").append(name);
                } else {
                    at.append('/').append(step);
                    where.append('[').append(step).append(']');
                }
            }
            throw new ManifestException(file, tree.line(at.toString()),
                    "invalid " + kind + (where.length() == 0 ? "" : " at " + where) + ": " + e.getMessage(), e);
        }
    }

    /** The API server's conversion of v1beta1 Ingresses, applied to the tree. */
    private static void convertLegacyIngress(ObjectNode ingress) {
        ingress.put("apiVersion", V1);
        JsonNode spec = ingress.get("spec");
        if (!(spec instanceof ObjectNode s)) {
            return;
        }
        JsonNode backend = s.remove("backend");
        if (backend != null && !s.has("defaultBackend")) {
            s.set("defaultBackend", convertLegacyBackend(backend));
        }
        JsonNode rules = s.get("rules");
        if (rules instanceof ArrayNode ruleList) {
            for (JsonNode rule : ruleList) {
                JsonNode paths = rule.path("http").path("paths");
                if (paths instanceof ArrayNode pathList) {
                    for (JsonNode path : pathList) {
                        if (path instanceof ObjectNode po) {
                            if (!po.hasNonNull("pathType")) {
                                po.put("pathType", "ImplementationSpecific");
                            }
                            JsonNode b = po.get("backend");
                            if (b != null) {
                                po.set("backend", convertLegacyBackend(b));
                            }
                        }
                    }
                }
            }
        }
    }

    private static JsonNode convertLegacyBackend(JsonNode legacy) {
        if (!(legacy instanceof ObjectNode b) || !(b.has("serviceName") || b.has("servicePort"))) {
            return legacy;
        }
        ObjectNode out = NODES.objectNode();
        ObjectNode service = out.putObject("service");
        service.set("name", b.path("serviceName").isMissingNode() ? NODES.nullNode() : b.get("serviceName"));
        ObjectNode port = service.putObject("port");
        JsonNode sp = b.get("servicePort");
        if (sp != null && sp.isIntegralNumber()) {
            port.put("number", sp.intValue());
        } else if (sp != null && sp.isTextual() && sp.asText().matches("[0-9]{1,5}")) {
            port.put("number", Integer.parseInt(sp.asText()));
        } else if (sp != null && sp.isTextual()) {
            port.put("name", sp.asText());
        }
        for (Map.Entry<String, JsonNode> e : b.properties()) {
            if (!e.getKey().equals("serviceName") && !e.getKey().equals("servicePort")) {
                out.set(e.getKey(), e.getValue());
            }
        }
        return out;
    }
}
