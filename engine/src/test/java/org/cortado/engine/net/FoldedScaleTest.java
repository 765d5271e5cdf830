package org.cortado.engine.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.cortado.engine.Configs;
import org.cortado.engine.config.CortadoConfig;
import org.cortado.engine.ops.Parallel;
import org.cortado.engine.tensor.Blob;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A Scale folded into the BatchNorm before it computes what the two layers compute on their own: the
 * outputs, the loss, every gradient (the Scale's included) and the running statistics.
 */
class FoldedScaleTest {
    private static final Parallel PAR = new Parallel(2);

    @AfterAll
    static void close() {
        PAR.close();
    }

    @AfterEach
    void foldAgain() {
        Net.setFoldScales(true);
    }

    private static final String INPUT =
            "{'name':'in','type':'Input','top':['x','label'],'shape':[{'dim':[4,3,6,5]},{'dim':[4]}]},";
    private static String conv(String top) {
        return "{'name':'conv','type':'Convolution','bottom':'x','top':'" + top + "','num_output':6,'kernel_size':3,'pad':1,"
                    + "'weight_filler':{'type':'gaussian','std':0.3},'bias_filler':{'type':'constant','value':0.4}},";
    }

    private static final String CONV = conv("c");
    private static final String HEAD =
            "{'name':'relu','type':'ReLU','bottom':'h','top':'h'},"
                    + "{'name':'ip','type':'InnerProduct','bottom':'h','top':'ip','num_output':5,'weight_filler':{'type':'gaussian','std':0.1}},"
                    + "{'name':'loss','type':'SoftmaxWithLoss','bottom':['ip','label'],'top':'loss'}";
    private static final String SCALE_FILLERS =
            "'filler':{'type':'uniform','min':0.5,'max':1.5},'bias_filler':{'type':'uniform','min':-0.5,'max':0.5}";

    /** The layers between the input and the head (which reads "h"), each a case. */
    @ParameterizedTest
    @ValueSource(strings = {
        // the ResNet/MobileNet idiom: conv, BatchNorm in place, Scale in place with bias
        "CONV_H{'name':'bn','type':'BatchNorm','bottom':'h','top':'h'},"
                + "{'name':'sc','type':'Scale','bottom':'h','top':'h','bias_term':true,FILLERS},",
        // BatchNorm into a new top, Scale without bias
        "CONV_C{'name':'bn','type':'BatchNorm','bottom':'c','top':'h'},"
                + "{'name':'sc','type':'Scale','bottom':'h','top':'h',FILLERS},",
        // BatchNorm straight on the data, which needs no gradient: the Scale's gradients still come
        "{'name':'bn','type':'BatchNorm','bottom':'x','top':'h'},"
                + "{'name':'sc','type':'Scale','bottom':'h','top':'h','bias_term':true,FILLERS},"})
    void foldedEqualsTheTwoLayers(String template) {
        String body = template.replace("CONV_H", conv("h")).replace("CONV_C", conv("c")).replace("FILLERS", SCALE_FILLERS);
        for (Phase phase : Phase.values()) {
            CortadoConfig config = Configs.net(INPUT + body + HEAD, "");
            Net.setFoldScales(false);
            Net plain = Net.build(config.net(), phase, PAR, config.seed());
            Net.setFoldScales(true);
            Net folded = Net.build(config.net(), phase, PAR, config.seed());
            assertEquals(Map.of(), plain.foldedScales());
            assertEquals(Map.of("sc", "bn"), folded.foldedScales());
            for (int step = 0; step < 2; step++) {
                feed(plain, step);
                feed(folded, step);
                double lossPlain = plain.forward();
                double lossFolded = folded.forward();
                assertEquals(lossPlain, lossFolded, 1e-5 * Math.abs(lossPlain), phase + " loss");
                for (Net n : List.of(plain, folded)) {
                    n.params().forEach(p -> p.blob().zeroDiff());
                    n.backward();
                }
                for (int i = 0; i < plain.params().size(); i++) {
                    Blob a = plain.params().get(i).blob();
                    Blob b = folded.params().get(i).blob();
                    assertClose(a.x(), b.x(), a.count(), phase + " step " + step + " param " + plain.params().get(i).name());
                    assertClose(a.dx(), b.dx(), a.count(), phase + " step " + step + " diff of " + plain.params().get(i).name());
                }
                for (String blob : List.of("h", "ip")) {
                    Blob a = plain.blob(blob);
                    Blob b = folded.blob(blob);
                    assertClose(a.x(), b.x(), a.count(), phase + " blob " + blob);
                }
            }
        }
    }

    /** What is not the idiom runs as written. */
    @ParameterizedTest
    @ValueSource(strings = {
        // something between the two
        "{'name':'bn','type':'BatchNorm','bottom':'c','top':'h'},{'name':'r0','type':'ReLU','bottom':'h','top':'h'},"
                + "{'name':'sc','type':'Scale','bottom':'h','top':'h','bias_term':true},",
        // the Scale not in place
        "{'name':'bn','type':'BatchNorm','bottom':'c','top':'c'},"
                + "{'name':'sc','type':'Scale','bottom':'c','top':'h','bias_term':true},",
        // a scale per (channel, row), not per channel
        "{'name':'bn','type':'BatchNorm','bottom':'c','top':'h'},"
                + "{'name':'sc','type':'Scale','bottom':'h','top':'h','num_axes':2},",
        // a layer with no top after the BatchNorm
        "{'name':'bn','type':'BatchNorm','bottom':'c','top':'h'},{'name':'quiet','type':'Silence','bottom':'c'},"})
    void otherShapesAreNotFolded(String body) {
        CortadoConfig config = Configs.net(INPUT + CONV + body + HEAD, "");
        Net net = Net.build(config.net(), Phase.TRAIN, PAR, config.seed());
        assertTrue(net.foldedScales().isEmpty(), net.foldedScales().toString());
        feed(net, 0);
        assertTrue(Double.isFinite(net.forward()));
    }

    private static void feed(Net net, int step) {
        Random r = new Random(11 + step);
        Blob x = net.blob("x");
        for (int i = 0; i < x.count(); i++) {
            x.x()[i] = (float) (r.nextGaussian() * 2 + 1);
        }
        Blob label = net.blob("label");
        for (int i = 0; i < label.count(); i++) {
            label.x()[i] = r.nextInt(5);
        }
    }

    private static void assertClose(float[] expected, float[] actual, int n, String what) {
        double scale = 0;
        for (int i = 0; i < n; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        for (int i = 0; i < n; i++) {
            assertEquals(expected[i], actual[i], 1e-5 * scale + 1e-7, what + "[" + i + "]");
        }
    }
}
