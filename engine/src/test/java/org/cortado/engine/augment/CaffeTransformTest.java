package org.cortado.engine.augment;

import static org.cortado.engine.augment.AugmentTesting.one;
import static org.cortado.engine.augment.AugmentTesting.randomBytes;
import static org.cortado.engine.augment.AugmentTesting.section;
import static org.cortado.engine.augment.AugmentTesting.test;
import static org.cortado.engine.augment.AugmentTesting.train;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.cortado.engine.ConfigException;
import org.cortado.engine.io.Npy;
import org.cortado.engine.net.Phase;
import org.cortado.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code caffe} step against Caffe's DataTransformer::Transform loop, written out here. */
class CaffeTransformTest {

    /**
     * Caffe's loop for given offsets and mirror flag:
     * {@code top[(c*height + h)*width + (mirror ? width-1-w : w)] = (data[(c*H + h_off + h)*W + w_off + w] - mean) * scale}.
     */
    static float[] caffe(byte[] data, int[] s, int crop, int hOff, int wOff, boolean mirror, float[] meanFile,
                         float[] meanValue, float scale) {
        int height = crop > 0 ? crop : s[1];
        int width = crop > 0 ? crop : s[2];
        float[] top = new float[s[0] * height * width];
        for (int c = 0; c < s[0]; c++) {
            for (int h = 0; h < height; h++) {
                for (int w = 0; w < width; w++) {
                    int topIndex = (c * height + h) * width + (mirror ? width - 1 - w : w);
                    int dataIndex = (c * s[1] + hOff + h) * s[2] + wOff + w;
                    float element = data[dataIndex] & 0xff;
                    if (meanFile != null) {
                        top[topIndex] = (element - meanFile[dataIndex]) * scale;
                    } else if (meanValue != null) {
                        top[topIndex] = (element - meanValue[meanValue.length == 1 ? 0 : c]) * scale;
                    } else {
                        top[topIndex] = element * scale;
                    }
                }
            }
        }
        return top;
    }

    private static float[] meanImage(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] m = new float[n];
        for (int i = 0; i < n; i++) {
            m[i] = (float) (r.nextDouble() * 255);
        }
        return m;
    }

    @Test
    void testPhaseCropsTheCenterRoundingDown() {
        int[] s = {3, 7, 10};
        byte[] img = randomBytes(1, 3 * 70);
        Augmenter a = test("[{'type':'caffe','crop_size':4,'mean_value':[104,117,123],'scale':0.017}]", 1, s);
        assertArrayEquals(new int[] {3, 4, 4}, a.outputShape());
        // h_off = (7 - 4) / 2 = 1, w_off = (10 - 4) / 2 = 3.
        float[] expected = caffe(img, s, 4, 1, 3, false, null, new float[] {104, 117, 123}, 0.017f);
        for (long id = 0; id < 20; id++) {
            assertArrayEquals(expected, one(a, 0, id, img));
        }
    }

    @Test
    void meanFileIsCroppedAtTheImagesOffsets(@TempDir Path dir) {
        int[] s = {2, 9, 8};
        byte[] img = randomBytes(2, 144);
        float[] mean = meanImage(3, 144);
        Npy.write(dir.resolve("mean.npy"), new Tensor(mean, 1, 2, 9, 8)); // Caffe's (1, C, H, W) blob
        Augmentation aug = section("{'train':[{'type':'caffe','crop_size':5,'mirror':true,'mean_file':'mean.npy','scale':0.5}],"
                + "'test':[{'type':'caffe','crop_size':5,'mean_file':'mean.npy','scale':0.5}]}", dir);
        // TEST: h_off = (9 - 5) / 2 = 2, w_off = (8 - 5) / 2 = 1.
        float[] got = one(aug.augmenter(Phase.TEST, 1, s), 0, 0, img);
        assertArrayEquals(caffe(img, s, 5, 2, 1, false, mean, null, 0.5f), got);
        // TRAIN: each output is Caffe's for some offsets and mirror, the mean read at the same offsets.
        Augmenter train = aug.augmenter(Phase.TRAIN, 1, s);
        Set<Integer> seen = new HashSet<>();
        int mirrored = 0;
        for (long id = 0; id < 400; id++) {
            float[] out = one(train, 0, id, img);
            int[] found = find(out, img, s, 5, mean, null, 0.5f);
            seen.add(found[0] * 10 + found[1]);
            mirrored += found[2];
        }
        assertEquals(5 * 4, seen.size(), "h_off in [0, 4], w_off in [0, 3], all reached");
        assertEquals(200, mirrored, 45, "mirror with probability 1/2");
    }

    /** The (h_off, w_off, mirror) under which Caffe's loop gives {@code out}; fails if none does. */
    private static int[] find(float[] out, byte[] img, int[] s, int crop, float[] meanFile, float[] meanValue, float scale) {
        for (int h = 0; h + crop <= s[1]; h++) {
            for (int w = 0; w + crop <= s[2]; w++) {
                for (int m = 0; m < 2; m++) {
                    if (java.util.Arrays.equals(out, caffe(img, s, crop, h, w, m == 1, meanFile, meanValue, scale))) {
                        return new int[] {h, w, m};
                    }
                }
            }
        }
        return fail("output is no crop of the image under Caffe's formula");
    }

    @Test
    void scaleMultipliesAfterTheMeanIsSubtracted() {
        int[] s = {1, 1, 2};
        byte[] img = {(byte) 200, 10};
        float[] out = one(test("[{'type':'caffe','mean_value':100,'scale':0.5}]", 1, s), 0, 0, img);
        assertArrayEquals(new float[] {50f, -45f}, out); // (200 - 100) * 0.5, (10 - 100) * 0.5
    }

    @Test
    void oneMeanValueServesAllChannels() {
        int[] s = {3, 2, 2};
        byte[] img = randomBytes(4, 12);
        assertArrayEquals(caffe(img, s, 0, 0, 0, false, null, new float[] {128}, 1f),
                one(test("[{'type':'caffe','mean_value':[128]}]", 1, s), 0, 0, img));
    }

    @Test
    void mirrorIsRandomInEitherListAsInCaffe() {
        // DataTransformer draws do_mirror = mirror() && Rand(2) whatever the phase.
        int[] s = {1, 3, 3};
        byte[] img = randomBytes(5, 9);
        Augmenter a = test("[{'type':'caffe','mirror':true}]", 1, s);
        int mirrored = 0;
        for (long id = 0; id < 400; id++) {
            mirrored += find(one(a, 0, id, img), img, s, 0, null, null, 1f)[2];
        }
        assertEquals(200, mirrored, 45);
        // Without crop_size nothing else moves, and without mirror nothing at all.
        Augmenter still = train("[{'type':'caffe','scale':2}]", 1, s);
        for (long id = 0; id < 20; id++) {
            assertArrayEquals(caffe(img, s, 0, 0, 0, false, null, null, 2f), one(still, 0, id, img));
        }
    }

    @Test
    void caffeAfterAPadReadsTheMeanAtItsOwnOffsets(@TempDir Path dir) {
        // A mean file is in the coordinates of the caffe step's input, here the padded image.
        int[] s = {1, 4, 4};
        byte[] img = randomBytes(6, 16);
        float[] mean = meanImage(7, 36);
        Npy.write(dir.resolve("m.npy"), new Tensor(mean, 1, 6, 6));
        Augmenter a = section("{'test':[{'type':'pad','pad':1,'fill':9},{'type':'caffe','crop_size':3,'mean_file':'m.npy'}]}", dir)
                .augmenter(Phase.TEST, 1, s);
        byte[] padded = new byte[36];
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 6; x++) {
                boolean inside = y >= 1 && y <= 4 && x >= 1 && x <= 4;
                padded[y * 6 + x] = inside ? img[(y - 1) * 4 + x - 1] : 9;
            }
        }
        // (6 - 3) / 2 = 1
        assertArrayEquals(caffe(padded, new int[] {1, 6, 6}, 3, 1, 1, false, mean, null, 1f), one(a, 0, 0, img));
    }

    @Test
    void configErrors(@TempDir Path dir) {
        Npy.write(dir.resolve("mean.npy"), new Tensor(new float[2 * 5 * 5], 2, 5, 5));
        ConfigException both = assertThrows(ConfigException.class,
                () -> section("{'train':[{'type':'caffe','mean_file':'mean.npy','mean_value':[1]}]}", dir));
        assertTrue(both.getMessage().startsWith("augment.train[0].mean_value: cannot be given together with mean_file"), both.getMessage());
        ConfigException shape = assertThrows(ConfigException.class,
                () -> section("{'train':[{'type':'caffe','mean_file':'mean.npy'}]}", dir).augmenter(Phase.TRAIN, 1, new int[] {2, 6, 5}));
        assertTrue(shape.getMessage().startsWith("augment.train[0].mean_file: the mean mean.npy has shape [2,5,5], the image [2,6,5]"),
                shape.getMessage());
        ConfigException missing = assertThrows(ConfigException.class,
                () -> section("{'test':[{'type':'caffe','mean_file':'nope.npy'}]}", dir));
        assertTrue(missing.getMessage().startsWith("augment.test[0].mean_file: ") && missing.getMessage().contains("nope.npy"),
                missing.getMessage());
        ConfigException proto = assertThrows(ConfigException.class,
                () -> section("{'test':[{'type':'caffe','mean_file':'mean.binaryproto'}]}", dir));
        assertTrue(proto.getMessage().startsWith("augment.test[0].mean_file: expected a numpy .npy file"), proto.getMessage());
        ConfigException crop = assertThrows(ConfigException.class,
                () -> train("[{'type':'caffe','crop_size':6}]", 1, 1, 5, 8));
        assertEquals("augment.train[0]: caffe crop_size 6 is larger than the 5x8 image (input [1,5,8])", crop.getMessage());
        ConfigException values = assertThrows(ConfigException.class,
                () -> train("[{'type':'caffe','mean_value':[1,2]}]", 1, 3, 5, 5));
        assertEquals("augment.train[0].mean_value: 2 values for an image of 3 channels; give one value or one per channel",
                values.getMessage());
    }
}
