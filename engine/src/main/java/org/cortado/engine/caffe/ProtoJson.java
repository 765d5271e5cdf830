package org.cortado.engine.caffe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.List;
import java.util.Map;

/**
 * Caffe messages as our JSON: each field that the message sets (never Caffe's defaults) under its
 * Caffe name; enums by name ({@code MAX}); floats as their shortest decimal ({@code 0.0001}, not
 * float32's {@code 1.0000000474974513E-4}); a repeated number with one value as that number
 * ({@code kernel_size: 5}), except the {@code dim} of a shape, which stays a list.
 */
final class ProtoJson {
    static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ProtoJson() {}

    static ObjectNode object(Message m) {
        ObjectNode o = NODES.objectNode();
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            o.set(e.getKey().getName(), field(e.getKey(), e.getValue()));
        }
        return o;
    }

    /** The JSON of one set field; {@code value} is what {@link Message#getAllFields()} gives for it. */
    static JsonNode field(FieldDescriptor f, Object value) {
        if (!f.isRepeated()) {
            return value(f, value);
        }
        List<?> values = (List<?>) value;
        boolean keepList = f.getJavaType() == FieldDescriptor.JavaType.MESSAGE || f.getName().equals("dim");
        if (values.size() == 1 && !keepList) {
            return value(f, values.getFirst());
        }
        ArrayNode a = NODES.arrayNode();
        for (Object v : values) {
            a.add(value(f, v));
        }
        return a;
    }

    private static JsonNode value(FieldDescriptor f, Object v) {
        return switch (f.getJavaType()) {
            case INT -> f.getType() == FieldDescriptor.Type.UINT32 || f.getType() == FieldDescriptor.Type.FIXED32
                    ? NODES.numberNode(Integer.toUnsignedLong((Integer) v)) : NODES.numberNode((Integer) v);
            case LONG -> NODES.numberNode((Long) v);
            case FLOAT -> number((Float) v);
            case DOUBLE -> NODES.numberNode((Double) v);
            case BOOLEAN -> NODES.booleanNode((Boolean) v);
            case STRING -> NODES.textNode((String) v);
            case ENUM -> NODES.textNode(((EnumValueDescriptor) v).getName());
            case MESSAGE -> object((Message) v);
            case BYTE_STRING -> throw new IllegalArgumentException("bytes field " + f.getFullName() + " has no JSON form");
        };
    }

    /** A float32 as the shortest decimal that reads back as it: integral values as integers. */
    static JsonNode number(float f) {
        if (f == Math.rint(f) && Math.abs(f) < 1e15f) {
            return NODES.numberNode((long) f);
        }
        return NODES.numberNode(Double.parseDouble(Float.toString(f)));
    }
}
