package org.cortado.engine.augment;

import static org.cortado.engine.augment.AugmentTesting.bytes;
import static org.cortado.engine.augment.AugmentTesting.ids;
import static org.cortado.engine.augment.AugmentTesting.one;
import static org.cortado.engine.augment.AugmentTesting.randomBytes;
import static org.cortado.engine.augment.AugmentTesting.section;
import static org.cortado.engine.augment.AugmentTesting.toFloats;
import static org.cortado.engine.augment.AugmentTesting.train;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cortado.engine.ConfigException;
import org.cortado.engine.ShapeException;
import org.cortado.engine.config.Json;
import org.cortado.engine.net.Phase;
import org.junit.jupiter.api.Test;

/** The {@code augment} section: shapes known up front, and errors that name their JSON path. */
class AugmentConfigTest {

    private static String parseError(String section) {
        return assertThrows(ConfigException.class, () -> section(section, null)).getMessage();
    }

    private static String shapeError(String steps, int... shape) {
        return assertThrows(ConfigException.class, () -> train(steps, 1, shape)).getMessage();
    }

    @Test
    void fieldErrorsNameTheirPath() {
        assertEquals("augment.train[1].size: must be > 0, got 0",
                parseError("{'train':[{'type':'pad','pad':4},{'type':'random_crop','size':0}]}"));
        assertEquals("augment.test[0].type: unknown augmentation step \"crop\"; known: caffe, pad, random_crop, center_crop, "
                + "flip, random_resized_crop, color_jitter, scale, normalize, random_erasing",
                parseError("{'test':[{'type':'crop','size':3}]}"));
        assertEquals("augment.train[0].pd: unknown field", parseError("{'train':[{'type':'pad','pd':4,'pad':1}]}"));
        assertEquals("augment.tarin: unknown field", parseError("{'tarin':[]}"));
        assertEquals("augment.train[0].type: required string is missing", parseError("{'train':[{'pad':4}]}"));
        assertEquals("augment.train[0].p: must be in [0, 1], got 1.5", parseError("{'train':[{'type':'flip','p':1.5}]}"));
        assertEquals("augment.train[0].std: must be finite and nonzero, got 0.0",
                parseError("{'train':[{'type':'normalize','mean':[1],'std':[0]}]}"));
        assertTrue(parseError("{'train':[{'type':'normalize','std':[1]}]}").startsWith("augment.train[0].mean: required"));
        assertEquals("augment.train[0].padding_mode: expected one of [CONSTANT, EDGE, REFLECT, SYMMETRIC], got \"wrap\"",
                parseError("{'train':[{'type':'pad','pad':1,'padding_mode':'wrap'}]}"));
        assertTrue(parseError("{'train':[{'type':'pad','pad':[1,2,3]}]}").startsWith("augment.train[0].pad: expected 1, 2"));
        assertEquals("augment.train[0].pad: must be >= 0, got -1", parseError("{'train':[{'type':'pad','pad':-1}]}"));
        assertEquals("augment.train[0].size: give size or size_h and size_w, not both",
                parseError("{'train':[{'type':'center_crop','size':3,'size_h':2}]}"));
        assertEquals("augment.train[0].scale: expected 0 < min <= max, got [0.5, 0.1]",
                parseError("{'train':[{'type':'random_resized_crop','size':8,'scale':[0.5,0.1]}]}"));
        assertTrue(parseError("{'train':[{'type':'random_erasing','value':'rand'}]}")
                .startsWith("augment.train[0].value: expected a number, one number per channel or \"random\""));
        assertEquals("augment.train[0].brightness: must be a finite number >= 0, got -0.5",
                parseError("{'train':[{'type':'color_jitter','brightness':-0.5}]}"));
        assertTrue(parseError("{'train':{'type':'flip'}}").startsWith("augment.train: expected a list of steps"));
        assertTrue(parseError("{'train':[{'type':'scale'}]}").startsWith("augment.train[0].scale: required"));
        assertEquals("augment.train[0].fill: has no effect without pad",
                parseError("{'train':[{'type':'random_crop','size':3,'fill':2}]}"));
    }

    @Test
    void colorJitterMustComeBeforeMeanSubtraction() {
        assertEquals("augment.train[2]: color_jitter must come before augment.train[1] (normalize): it clamps to the value "
                + "range [0, max], which that step leaves",
                parseError("{'train':[{'type':'flip'},{'type':'normalize','mean':1,'std':1},{'type':'color_jitter','brightness':0.2}]}"));
    }

    @Test
    void stepsThatDoNotFitTheImageFailWhenTheShapeIsKnown() {
        assertEquals("augment.train[1]: random_crop of 30x30 is larger than the 28x28 image (input [1,28,28])",
                shapeError("[{'type':'flip'},{'type':'random_crop','size':30}]", 1, 28, 28));
        assertEquals("augment.train[0]: random_crop of 34x34 is larger than the 32x32 image (after padding "
                + "[left 2, top 2, right 2, bottom 2]) (input [1,28,28])",
                shapeError("[{'type':'random_crop','size':34,'pad':2}]", 1, 28, 28));
        // The size each step sees is the one the steps before it produced.
        assertEquals("augment.train[1]: center_crop of 25x25 is larger than the 24x24 image (input [3,24,24])",
                shapeError("[{'type':'center_crop','size':24},{'type':'center_crop','size':25}]", 3, 28, 28));
        assertEquals("augment.train[0]: pad reflect padding of [left 5, top 5, right 5, bottom 5] needs at most 4 rows and "
                + "4 columns on each side for the 5x5 image (input [1,5,5])",
                shapeError("[{'type':'pad','pad':5,'padding_mode':'reflect'}]", 1, 5, 5));
        assertEquals("augment.train[0].mean: 2 values for an image of 3 channels; give one value or one per channel",
                shapeError("[{'type':'normalize','mean':[1,2],'std':1}]", 3, 5, 5));
        assertEquals("augment.train[0].fill: 2 values for an image of 1 channel; give one value or one per channel",
                shapeError("[{'type':'pad','pad':1,'fill':[1,2]}]", 1, 5, 5));
        assertEquals("augment.train[0]: color_jitter contrast needs a 1- or 3-channel image (its grayscale mean), got 2 channels",
                shapeError("[{'type':'color_jitter','contrast':0.5}]", 2, 5, 5));
    }

    @Test
    void outputShapeIsKnownBeforeAnyBatch() {
        Augmentation a = section("{'train':[{'type':'pad','pad':[1,2]},{'type':'random_crop','size':[20,24]},"
                + "{'type':'random_resized_crop','size_h':16,'size_w':12},{'type':'normalize','mean':0,'std':1}],"
                + "'test':[{'type':'center_crop','size':18}]}", null);
        Augmenter tr = a.augmenter(Phase.TRAIN, 1, new int[] {3, 24, 26});
        assertArrayEquals(new int[] {3, 16, 12}, tr.outputShape());
        assertEquals(3 * 16 * 12, tr.outputElements());
        assertEquals(4, tr.steps());
        assertArrayEquals(new int[] {3, 18, 18}, a.augmenter(Phase.TEST, 1, new int[] {3, 24, 26}).outputShape());
        assertEquals(4, a.steps(Phase.TRAIN));
        assertEquals(1, a.steps(Phase.TEST));
    }

    @Test
    void noStepsConvertToFloat() {
        int[] s = {2, 3, 4};
        byte[] img = randomBytes(1, 24);
        Augmenter none = Augmentation.none().augmenter(Phase.TRAIN, 1, s);
        assertArrayEquals(toFloats(img), one(none, 0, 0, img));
        float[] f = toFloats(img);
        f[3] = -1.5f;
        assertArrayEquals(f, one(none, 0, 0, f));
        // A config without the section, and a section with only one list.
        Json root = Json.parse("{\"version\": 1}", "t.json");
        assertEquals(0, Augmentation.fromConfig(root, null).steps(Phase.TRAIN));
        Augmentation onlyTrain = section("{'train':[{'type':'flip'}]}", null);
        assertArrayEquals(toFloats(img), one(onlyTrain.augmenter(Phase.TEST, 1, s), 0, 0, img));
    }

    @Test
    void batchesOfAnotherShapeAreRefused() {
        Augmenter a = train("[{'type':'flip'}]", 1, 1, 4, 4);
        ShapeException wrong = assertThrows(ShapeException.class,
                () -> a.apply(bytes(0, ids(0, 2), new int[] {1, 4, 5}, new byte[40]), new float[32]));
        assertEquals("augmenter (TRAIN) made for samples of shape [1,4,4] got a batch of samples of shape [1,4,5]", wrong.getMessage());
        assertThrows(ShapeException.class, () -> a.apply(bytes(0, ids(0, 2), new int[] {1, 4, 4}, new byte[32]), new float[31]));
        assertThrows(ShapeException.class, () -> Augmentation.none().augmenter(Phase.TRAIN, 1, new int[] {28, 28}));
    }
}
