package org.cortado.engine.augment;

import java.nio.file.Path;
import java.util.Arrays;
import org.cortado.engine.ConfigException;
import org.cortado.engine.CortadoException;
import org.cortado.engine.config.Json;
import org.cortado.engine.io.Npy;
import org.cortado.engine.net.Phase;
import org.cortado.engine.tensor.Shapes;
import org.cortado.engine.tensor.Tensor;

/**
 * {@code caffe}: Caffe's {@code transform_param}, as {@code DataTransformer::Transform} applies it,
 * in one step. For an input (C, H, W) and {@code crop = crop_size}:
 * <pre>
 *   do_mirror = mirror &amp;&amp; Rand(2)                       // Rand(n): uniform integer in [0, n)
 *   if crop &gt; 0:  TRAIN list: h_off = Rand(H - crop + 1), w_off = Rand(W - crop + 1)
 *                 TEST list:  h_off = (H - crop) / 2,     w_off = (W - crop) / 2   (rounded down)
 *   else:         h_off = w_off = 0, the whole image
 *   out(c, y, do_mirror ? width - 1 - x : x) = (in(c, h_off + y, w_off + x) - mean(c, h_off + y, w_off + x)) * scale
 * </pre>
 * where {@code mean} is the {@code mean_file}'s pixel (the mean image is cropped at the same offsets
 * as the image, as in Caffe), or {@code mean_value[c]}, or 0. Draws {@code do_mirror} (only when
 * {@code mirror} is set), then {@code h_off}, then {@code w_off}. As in Caffe, {@code mirror} applies
 * in whichever list the step is in (Caffe's {@code DataTransformer} does not look at the phase for
 * it): set it in the {@code train} list only.
 *
 * <p>Fields (Caffe's names and defaults): {@code scale} (1), {@code mirror} (false), {@code crop_size}
 * (0: no crop), {@code mean_value} (one value for all channels, or one per channel), {@code mean_file}
 * (a numpy {@code .npy} of shape (C, H, W) or (1, C, H, W), the input's (C, H, W), relative to the
 * config's folder; Caffe's {@code .binaryproto} is converted once with pycaffe:
 * {@code np.save("mean.npy", caffe.io.blobproto_to_array(blob)[0])}). {@code mean_file} and
 * {@code mean_value} together are an error, as in Caffe.
 *
 * @param meanFile  the file's name as written in the config, or null
 * @param mean      the mean image (C, H, W), or null
 * @param meanShape its (C, H, W), or null
 */
record CaffeTransform(String path, Phase phase, double scale, boolean mirror, int cropSize, double[] meanValue,
                      String meanFile, float[] mean, int[] meanShape) implements Step.Geometric, Step.Affine {

    static CaffeTransform parse(Json j, Phase phase, Path configDir) {
        double scale = j.getDouble("scale", 1);
        boolean mirror = j.getBool("mirror", false);
        int crop = j.nonNegative("crop_size", j.getInt("crop_size", 0));
        double[] meanValue = j.doubles("mean_value");
        String meanFile = j.getString("mean_file", null);
        if (meanFile != null && meanValue.length > 0) {
            throw j.error("mean_value", "cannot be given together with mean_file (Caffe: \"Cannot specify mean_file and mean_value at the same time\")");
        }
        float[] mean = null;
        int[] meanShape = null;
        if (meanFile != null) {
            String key = j.path() + ".mean_file";
            if (!meanFile.endsWith(".npy")) {
                throw new ConfigException(key + ": expected a numpy .npy file, got \"" + meanFile
                        + "\" (convert a Caffe .binaryproto once: np.save(\"mean.npy\", caffe.io.blobproto_to_array(blob)[0]))");
            }
            Path file = configDir == null ? Path.of(meanFile) : configDir.resolve(meanFile);
            Tensor t;
            try {
                t = Npy.read(file);
            } catch (CortadoException e) {
                throw new ConfigException(key + ": " + e.getMessage());
            }
            int[] s = t.shape();
            if (s.length == 4 && s[0] == 1) {
                s = Arrays.copyOfRange(s, 1, 4);
            }
            if (s.length != 3) {
                throw new ConfigException(key + ": " + file + " holds an array of shape " + Shapes.str(t.shape())
                        + "; expected (C, H, W) or (1, C, H, W)");
            }
            mean = t.toArray();
            meanShape = s;
        }
        return new CaffeTransform(j.path(), phase, scale, mirror, crop, meanValue, meanFile, mean, meanShape);
    }

    @Override
    public int[] outputShape(int[] in) {
        if (cropSize > in[1] || cropSize > in[2]) {
            throw error("caffe crop_size " + cropSize + " is larger than the " + Steps.hw(in[1], in[2])
                    + " image (input " + Shapes.str(in) + ")");
        }
        if (mean != null && !Arrays.equals(meanShape, in)) {
            throw new ConfigException(path + ".mean_file: the mean " + meanFile + " has shape " + Shapes.str(meanShape)
                    + ", the image " + Shapes.str(in) + "; they must be equal (Caffe crops the mean with the image)");
        }
        if (meanValue.length > 0) {
            Steps.perChannel(path + ".mean_value", meanValue, in[0]);
        }
        return cropSize > 0 ? new int[] {in[0], cropSize, cropSize} : in.clone();
    }

    @Override
    public void remap(int[] in, Tables t, SampleRandom rng, int fillCode) {
        boolean doMirror = mirror && rng.nextInt(2) == 1;
        if (cropSize > 0) {
            int hOff;
            int wOff;
            if (phase == Phase.TRAIN) {
                hOff = rng.nextInt(in[1] - cropSize + 1);
                wOff = rng.nextInt(in[2] - cropSize + 1);
            } else {
                hOff = (in[1] - cropSize) / 2;
                wOff = (in[2] - cropSize) / 2;
            }
            t.crop(hOff, wOff, cropSize, cropSize);
        }
        if (doMirror) {
            t.flipCols();
        }
    }

    /** {@code (x - mean_value[c]) * scale}; with a mean file its pixels are subtracted before (see {@link Plan}). */
    @Override
    public void affine(int channels, double[] m, double[] s, double[] t) {
        double[] mv = meanValue.length > 0 ? Steps.perChannel(path, meanValue, channels) : new double[channels];
        for (int c = 0; c < channels; c++) {
            m[c] = mv[c];
            s[c] = scale;
            t[c] = 0;
        }
    }
}
