package dev.sluice.gateway.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/** {@link RoutesJson#compactJson} writes what an {@code ObjectMapper} writes, without one. */
class RoutesJsonTest {

    @Test
    void compactJsonIsWhatAnObjectMapperWritesForEveryKindOfNode() throws Exception {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode tree = f.objectNode();
        tree.put("text", "ünïcode \"quoted\" \\ \n line");
        tree.put("int", -7).put("long", 1L << 40).put("float", 1.5f).put("double", 0.1)
                .put("bool", true).putNull("null");
        tree.put("bigInteger", new BigInteger("123456789012345678901234567890"));
        tree.put("bigDecimal", new BigDecimal("1.250"));
        tree.put("binary", new byte[] {1, 2, 3, (byte) 0xff});
        tree.putArray("array").add(1).add("two").addNull().addObject().put("nested", false);
        tree.putObject("empty");
        tree.putArray("emptyArray");

        assertThat(new String(RoutesJson.compactJson(tree), "UTF-8"))
                .isEqualTo(new String(new ObjectMapper().writeValueAsBytes(tree), "UTF-8"));
        assertThat(RoutesJson.compactJson(tree)).isEqualTo(new ObjectMapper().writeValueAsBytes(tree));
    }
}
