package org.cortado.engine.layers;

import org.cortado.engine.config.Json;
import org.cortado.engine.fill.Filler;

/**
 * The fields {@link Convolution} and {@link Deconvolution} share (Caffe's {@code ConvolutionParameter}):
 * {@code num_output} (required), {@code kernel_size} or {@code kernel_h}/{@code kernel_w} (required),
 * {@code stride} (1), {@code pad} (0), {@code dilation} (1), {@code group} (1, must divide
 * {@code num_output}), {@code bias_term} (true), {@code weight_filler} and {@code bias_filler}
 * (constant 0), and {@code axis} (only 1).
 */
record ConvParams(int numOutput, Window kernel, Window stride, Window pad, Window dilation, int group,
                  boolean biasTerm, Filler weightFiller, Filler biasFiller) {

    static ConvParams parse(Json j) {
        int numOutput = j.positive("num_output", j.requireInt("num_output"));
        Window kernel = Window.parse(j, "kernel_size", "kernel", -1, 1);
        Window stride = Window.parse(j, "stride", "stride", 1, 1);
        Window pad = Window.parse(j, "pad", "pad", 0, 0);
        Window dilation = Window.parse(j, "dilation", null, 1, 1);
        int group = j.positive("group", j.getInt("group", 1));
        if (numOutput % group != 0) {
            throw j.error("group", "num_output (" + numOutput + ") must be divisible by group (" + group + ")");
        }
        boolean biasTerm = j.getBool("bias_term", true);
        Filler weightFiller = Filler.parse(j, "weight_filler", Filler.ZERO);
        Filler biasFiller = Filler.parse(j, "bias_filler", Filler.ZERO);
        if (j.getInt("axis", 1) != 1) {
            throw j.error("axis", "only axis 1 (the channels of NCHW) is supported");
        }
        return new ConvParams(numOutput, kernel, stride, pad, dilation, group, biasTerm, weightFiller, biasFiller);
    }
}
