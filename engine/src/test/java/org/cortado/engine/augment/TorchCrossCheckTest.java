package org.cortado.engine.augment;

import static org.cortado.engine.augment.AugmentTesting.floatArray;
import static org.cortado.engine.augment.AugmentTesting.one;
import static org.cortado.engine.augment.AugmentTesting.python;
import static org.cortado.engine.augment.AugmentTesting.randomBytes;
import static org.cortado.engine.augment.AugmentTesting.toFloats;
import static org.cortado.engine.augment.AugmentTesting.train;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.cortado.engine.layers.LayerContext;
import org.junit.jupiter.api.Test;

/**
 * The deterministic parts of the steps against numpy and PyTorch (CPU) run by the system python.
 * torchvision is not assumed: the snippets use what its tensor transforms call (numpy's {@code pad},
 * {@code F.interpolate}, its blend and grayscale formulas). Skipped when python, numpy or torch is missing.
 */
class TorchCrossCheckTest {

    private static List<Integer> list(int... v) {
        List<Integer> l = new ArrayList<>();
        for (int x : v) {
            l.add(x);
        }
        return l;
    }

    private static List<Float> list(float[] v) {
        List<Float> l = new ArrayList<>();
        for (float x : v) {
            l.add(x);
        }
        return l;
    }

    @Test
    void paddingModesMatchNumpyAndTorch() throws IOException {
        int[] s = {2, 5, 6};
        byte[] img = randomBytes(1, 60);
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("x", list(toFloats(img)));
        in.put("shape", list(s));
        JsonNode py = python("""
                x = np.array(inp["x"], dtype=np.float32).reshape(inp["shape"])
                w = ((0, 0), (2, 4), (3, 1))                      # rows top/bottom, columns left/right
                out = {m: np.pad(x, w, mode=m).ravel().tolist() for m in ["edge", "reflect", "symmetric"]}
                out["constant"] = np.pad(x, w, mode="constant", constant_values=17).ravel().tolist()
                t = torch.tensor(x)[None]
                for m, tm in [("reflect", "reflect"), ("edge", "replicate")]:
                    assert torch.equal(F.pad(t, (3, 1, 2, 4), mode=tm)[0], torch.tensor(np.pad(x, w, mode=m)))
                print(json.dumps(out))
                """, in);
        for (String mode : new String[] {"constant", "edge", "reflect", "symmetric"}) {
            // torchvision's [left, top, right, bottom]
            Augmenter a = train("[{'type':'pad','pad':[3,2,1,4],'padding_mode':'" + mode + "','fill':17}]", 1, s);
            assertArrayEquals(floatArray(py.get(mode)), one(a, 0, 0, img), mode);
        }
    }

    @Test
    void resizeMatchesInterpolateWithAndWithoutAntialias() throws IOException {
        int[] s = {3, 21, 26};
        SplittableRandom rng = new SplittableRandom(2);
        float[] img = new float[3 * 21 * 26];
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) (rng.nextDouble() * 255);
        }
        // top, left, box h, box w, out h, out w: shrinking, growing, mixed, 1:1, extreme
        int[][] cases = {{2, 3, 17, 20, 8, 9}, {0, 0, 21, 26, 7, 5}, {4, 1, 6, 9, 15, 22}, {1, 2, 13, 11, 5, 19},
                {0, 0, 21, 26, 21, 26}, {3, 3, 16, 22, 1, 2}, {5, 5, 3, 3, 11, 12}};
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("x", list(img));
        in.put("shape", list(s));
        List<List<Integer>> cs = new ArrayList<>();
        for (int[] c : cases) {
            cs.add(list(c));
        }
        in.put("cases", cs);
        JsonNode py = python("""
                x = torch.tensor(inp["x"], dtype=torch.float32).reshape(inp["shape"])[None]
                out = []
                for t, l, h, w, oh, ow in inp["cases"]:
                    box = x[:, :, t:t + h, l:l + w]
                    for aa in (False, True):
                        y = F.interpolate(box, size=(oh, ow), mode="bilinear", align_corners=False, antialias=aa)
                        out.append(y.ravel().tolist())
                print(json.dumps(out))
                """, in);
        int k = 0;
        double worst = 0;
        for (int[] c : cases) {
            for (boolean aa : new boolean[] {false, true}) {
                float[] out = new float[3 * c[4] * c[5]];
                Resample.resize(null, img, 0, s, c[0], c[1], c[2], c[3], c[4], c[5], aa, null, out, 0,
                        new Resample.Scratch(s, c[4], c[5]));
                float[] expected = floatArray(py.get(k++));
                for (int i = 0; i < out.length; i++) {
                    worst = Math.max(worst, Math.abs(expected[i] - out[i]));
                    // Values in [0, 255]: within 1e-6 relative to the range (torch 1.13's own result is up to
                    // ~3 ulps off the exact value; this implementation's is within 1).
                    assertEquals(expected[i], out[i], 2.55e-4, java.util.Arrays.toString(c) + " antialias " + aa + " at " + i);
                }
            }
        }
        assertTrue(worst < 2.55e-4, "worst " + worst);
    }

    @Test
    void uint8RandomResizedCropMatchesTorchOnItsBox() throws IOException {
        int[] s = {3, 32, 32};
        byte[] img = randomBytes(3, 3 * 1024);
        Augmenter a = train("[{'type':'random_resized_crop','size':24}]", 7, s);
        long phaseSeed = LayerContext.mix(7, "augment/TRAIN");
        List<List<Integer>> boxes = new ArrayList<>();
        List<List<Float>> outs = new ArrayList<>();
        for (long id = 0; id < 8; id++) {
            int[] box = new int[4];
            RandomResizedCrop.box(32, 32, new double[] {0.08, 1}, new double[] {0.75, 4.0 / 3},
                    new SampleRandom().reset(SampleRandom.stepSeed(SampleRandom.sampleSeed(phaseSeed, 1, id), 0)), box);
            boxes.add(list(box));
            outs.add(list(one(a, 1, id, img)));
        }
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("x", list(toFloats(img)));
        in.put("boxes", boxes);
        in.put("outs", outs);
        JsonNode py = python("""
                x = torch.tensor(inp["x"]).reshape(1, 3, 32, 32).to(torch.uint8)
                worst, off, tie = 0, 0, 0.0
                for (t, l, h, w), got in zip(inp["boxes"], inp["outs"]):
                    # torchvision's resize of a uint8 tensor: to float, interpolate, round, back to uint8
                    f = F.interpolate(x[:, :, t:t + h, l:l + w].float(), size=(24, 24), mode="bilinear",
                                      align_corners=False, antialias=True).ravel()
                    d = (f.round().clamp(0, 255) - torch.tensor(got)).abs()
                    worst = max(worst, float(d.max()))
                    off += int((d > 0).sum())
                    if (d > 0).any():   # how far from a tie (x.5) the float values that round differently are
                        tie = max(tie, float(((f - f.floor() - 0.5).abs())[d > 0].max()))
                print(json.dumps({"worst": worst, "off": off, "tie": tie}))
                """, in);
        // Identical but where the exact value is a tie (x.5, frequent when taps weigh 1/2) and float error
        // in either implementation puts it on the other side.
        assertTrue(py.get("worst").asDouble() <= 1, py.toString());
        assertTrue(py.get("tie").asDouble() < 5e-4, py.toString());
        assertTrue(py.get("off").asInt() <= 8 * 3 * 576 / 100, py.toString());
    }

    @Test
    void normalizeMatchesToTensorThenNormalize() throws IOException {
        int[] s = {3, 6, 5};
        byte[] img = randomBytes(4, 90);
        float[] out = one(train("[{'type':'normalize','scale':0.00392156862745098,'mean':[0.4914,0.4822,0.4465],"
                + "'std':[0.247,0.243,0.261]}]", 1, s), 0, 0, img);
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("x", list(toFloats(img)));
        JsonNode py = python("""
                x = torch.tensor(inp["x"]).reshape(3, 6, 5).to(torch.uint8)
                t = x.float() / 255                                          # ToTensor
                m = torch.tensor([0.4914, 0.4822, 0.4465])[:, None, None]
                s = torch.tensor([0.247, 0.243, 0.261])[:, None, None]
                print(json.dumps(((t - m) / s).ravel().tolist()))            # Normalize
                """, in);
        float[] expected = floatArray(py);
        for (int i = 0; i < out.length; i++) {
            assertEquals(expected[i], out[i], 2e-6 * Math.max(1, Math.abs(expected[i])));
        }
    }

    @Test
    void colorJitterMatchesTorchvisionsFormulas() throws IOException {
        int[] s = {3, 7, 9};
        byte[] img = randomBytes(5, 3 * 63);
        // Fixed factors ([b, b], [c, c]); the order is the one documented draw.
        Augmenter a = train("[{'type':'color_jitter','brightness':[1.35,1.35],'contrast':[0.55,0.55]}]", 9, s);
        long phaseSeed = LayerContext.mix(9, "augment/TRAIN");
        List<Integer> orders = new ArrayList<>();
        List<List<Float>> outs = new ArrayList<>();
        for (long id = 0; id < 6; id++) {
            SampleRandom r = new SampleRandom().reset(SampleRandom.stepSeed(SampleRandom.sampleSeed(phaseSeed, 0, id), 0));
            orders.add(r.nextInt(2));
            outs.add(list(one(a, 0, id, img)));
        }
        assertTrue(orders.contains(0) && orders.contains(1), "both orders covered: " + orders);
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("x", list(toFloats(img)));
        in.put("orders", orders);
        in.put("outs", outs);
        JsonNode py = python("""
                x = torch.tensor(inp["x"]).reshape(3, 7, 9)   # a float image in 0..255: bound 255
                def blend(a, b, r):                            # torchvision.transforms.functional_tensor._blend
                    return (r * a + (1.0 - r) * b).clamp(0, 255.0)
                def gray(img):                                 # rgb_to_grayscale
                    r, g, b = img.unbind(dim=-3)
                    return (0.2989 * r + 0.587 * g + 0.114 * b).unsqueeze(dim=-3)
                def brightness(img, f):
                    return blend(img, torch.zeros_like(img), f)
                def contrast(img, f):
                    return blend(img, torch.mean(gray(img), dim=(-3, -2, -1), keepdim=True), f)
                worst = 0
                for order, got in zip(inp["orders"], inp["outs"]):
                    y = brightness(contrast(x, 0.55), 1.35) if order == 1 else contrast(brightness(x, 1.35), 0.55)
                    worst = max(worst, float((y.ravel() - torch.tensor(got)).abs().max()))
                print(json.dumps(worst))
                """, in);
        assertTrue(py.asDouble() < 1e-3, "worst difference " + py.asDouble());
    }
}
