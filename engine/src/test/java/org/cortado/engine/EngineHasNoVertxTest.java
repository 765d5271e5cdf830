package org.cortado.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The engine must never depend on Vert.x (ARCHITECTURE.md): neither on its classpath nor in its sources. */
class EngineHasNoVertxTest {
    @Test
    void vertxIsNotOnTheEngineClasspath() {
        List<String> hits = Stream.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(e -> e.toLowerCase().contains("vertx") || e.toLowerCase().contains("netty")
                        || e.toLowerCase().contains("hazelcast"))
                .toList();
        assertEquals(List.of(), hits);
        assertThrows(ClassNotFoundException.class, () -> Class.forName("io.vertx.core.Vertx"));
    }

    @Test
    void noEngineSourceMentionsVertx() throws IOException {
        try (Stream<Path> files = Files.walk(Path.of("src", "main", "java"))) {
            List<Path> hits = files.filter(p -> p.toString().endsWith(".java")).filter(p -> {
                try {
                    return Files.readString(p).contains("io.vertx");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
            assertEquals(List.of(), hits);
        }
    }
}
