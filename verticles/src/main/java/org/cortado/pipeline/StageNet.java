package org.cortado.pipeline;

import java.util.Arrays;
import java.util.List;
import org.cortado.engine.net.Net;
import org.cortado.engine.solver.Param;
import org.cortado.engine.tensor.Blob;
import org.cortado.engine.tensor.Tensor;
import org.cortado.kernels.CudaDevice;
import org.cortado.kernels.CudaNet;
import org.cortado.kernels.CudaOps;
import org.cortado.kernels.CudaSolver;
import org.cortado.kernels.DeviceArray;

/**
 * One net of a stage (a micro-batch's replica, or the TEST net) and where its layers' math runs: on
 * the heap ({@link Host}, the engine's own layers) or on a GPU ({@link Cuda}, a {@link CudaNet} of the
 * stage's layers). {@link StageVerticle} moves messages; this moves tensors in and out of the net.
 *
 * <p>Between stages a {@code Host} net sends heap copies; a {@code Cuda} net sends GPU copies as
 * message {@linkplain TensorMessage#attach attachments} (the next stage on the same GPU copies them in,
 * on the GPU), and takes the batch from the coordinator as heap arrays. Its params and their gradients
 * go to the optimizer as GPU arrays too: nothing but the batch goes up and the outputs come down.
 */
sealed interface StageNet extends AutoCloseable permits StageNet.Host, StageNet.Cuda {

    Net net();

    void setBatchSize(int n);

    /** Writes the message's {@code name} (an array or an attachment) into blob {@code name}'s data, or its diff. */
    void take(TensorMessage in, String name, boolean gradient);

    /** Adds a copy of blob {@code name}'s data (or diff) to {@code out}, for the receiver to keep. */
    void give(TensorMessage out, String name, boolean gradient);

    /** Forward through the stage's layers; the weighted loss of its loss layers. */
    double forward();

    /** Backward through the stage's layers from {@code lossScale} (see {@link Net#backward(int, int, double)}). */
    void backward(double lossScale);

    /** Blob {@code b}'s current data on the heap (its first {@code count()} values). */
    float[] fetch(Blob b);

    /** Adds the stage's params and their gradients to the optimizer's message. */
    void giveParams(TensorMessage out, List<Param> params);

    /** Takes the params back from the optimizer (a copy in, when they came over the wire). */
    void takeParams(TensorMessage in, List<Param> params);

    /** Clears the params' gradients (the optimizer dropped the step). */
    void zeroParamGradients(List<Param> params);

    /** Brings the params' current weights into the engine net's blobs (for a snapshot). */
    void weightsToHost();

    @Override
    void close();

    /** {@code t}, when it holds as many values as blob {@code b}; otherwise an error naming the blob and both shapes. */
    private static Tensor fits(Blob b, Tensor t) {
        if (b.count() != t.count()) {
            throw new IllegalStateException("blob '" + b.name() + "' has shape " + Arrays.toString(b.shape())
                    + ", the message brought " + Arrays.toString(t.shape()));
        }
        return t;
    }

    /** The engine's layers on the heap, over layers {@code [from, to)}. */
    record Host(Net net, int from, int to) implements StageNet {
        @Override
        public void setBatchSize(int n) {
            net.setBatchSize(n);
        }

        @Override
        public void take(TensorMessage in, String name, boolean gradient) {
            Blob b = net.blob(name);
            Tensor t = fits(b, in.tensor(name));
            System.arraycopy(t.data(), 0, gradient ? b.dx() : b.x(), 0, t.count());
        }

        @Override
        public void give(TensorMessage out, String name, boolean gradient) {
            Tensor t = gradient ? net.blob(name).diff() : net.blob(name).data();
            out.put(name, new Tensor(Arrays.copyOf(t.data(), t.count()), t.shape()));
        }

        @Override
        public double forward() {
            return net.forward(from, to);
        }

        @Override
        public void backward(double lossScale) {
            net.backward(from, to, lossScale);
        }

        @Override
        public float[] fetch(Blob b) {
            return b.x();
        }

        /** The arrays themselves: zero copy in one process. */
        @Override
        public void giveParams(TensorMessage out, List<Param> params) {
            for (int i = 0; i < params.size(); i++) {
                out.put("x:" + i, params.get(i).blob().data()).put("dx:" + i, params.get(i).blob().diff());
            }
        }

        @Override
        public void takeParams(TensorMessage in, List<Param> params) {
            for (int i = 0; i < params.size(); i++) {
                Blob b = params.get(i).blob();
                Tensor x = in.tensor("x:" + i);
                if (x.data() != b.x()) { // came over the wire: copy in, and clear the gradient the solver cleared there
                    System.arraycopy(x.data(), 0, b.x(), 0, b.count());
                    b.zeroDiff();
                }
            }
        }

        @Override
        public void zeroParamGradients(List<Param> params) {
            for (Param p : params) {
                p.blob().zeroDiff();
            }
        }

        @Override
        public void weightsToHost() {
        }

        @Override
        public void close() {
        }
    }

    /** The stage's layers on a GPU. */
    record Cuda(CudaNet gpu) implements StageNet {
        /** The attachment that carries a stage's params to the optimizer: a {@code List<CudaSolver.DeviceParam>}. */
        static final String PARAMS = "device-params";

        /**
         * Layers {@code [from, to)} of {@code net} on {@code device}, sharing the params of {@code sharing}
         * (the stage's first replica) when given.
         */
        static Cuda open(CudaDevice device, Net net, int from, int to, Cuda sharing) {
            return new Cuda(CudaNet.open(device, net, from, to, sharing == null ? null : sharing.gpu, CudaOps.Precision.F32));
        }

        @Override
        public Net net() {
            return gpu.net();
        }

        @Override
        public void setBatchSize(int n) {
            gpu.setBatchSize(n);
        }

        @Override
        public void take(TensorMessage in, String name, boolean gradient) {
            DeviceArray a = in.attached(name, DeviceArray.class);
            if (a != null) {
                try (a) {
                    gpu.copyIn(name, gradient, a);
                }
                return;
            }
            Tensor t = fits(gpu.net().blob(name), in.tensor(name));
            gpu.upload(name, gradient, t.data(), t.count());
        }

        @Override
        public void give(TensorMessage out, String name, boolean gradient) {
            out.attach(name, gpu.copyOut(name, gradient));
        }

        @Override
        public double forward() {
            return gpu.forward();
        }

        @Override
        public void backward(double lossScale) {
            gpu.backward(lossScale);
        }

        @Override
        public float[] fetch(Blob b) {
            return gpu.fetch(b);
        }

        /** The GPU arrays themselves; the optimizer updates them where they are. */
        @Override
        public void giveParams(TensorMessage out, List<Param> params) {
            List<CudaSolver.DeviceParam> mine = gpu.params();
            if (mine.size() != params.size()) {
                throw new IllegalStateException("the stage has " + params.size() + " params, " + mine.size() + " on the GPU");
            }
            out.attach(PARAMS, mine);
        }

        @Override
        public void takeParams(TensorMessage in, List<Param> params) {
        }

        @Override
        public void zeroParamGradients(List<Param> params) {
            gpu.zeroParamGradients();
        }

        @Override
        public void weightsToHost() {
            gpu.downloadWeights();
        }

        @Override
        public void close() {
            gpu.close();
        }
    }
}
