package org.cortado.engine.layers;

import org.cortado.engine.ops.Conv;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Every {@link ConvolutionTest} again on the im2col + GEMM path, the one used where oneDNN is not. */
class ConvolutionIm2colTest extends ConvolutionTest {
    @BeforeAll
    static void im2colOnly() {
        Conv.setDnnlEnabled(false);
    }

    @AfterAll
    static void restore() {
        Conv.setDnnlEnabled(true);
    }
}
