package org.cortado.engine.solver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.cortado.engine.ConfigException;
import org.cortado.engine.config.Json;
import org.junit.jupiter.api.Test;

/**
 * Each policy against values worked out by hand or with Python's math module (quoted next to each
 * literal), Caffe's stateful multistep counter re-implemented as a cross-check, and the config errors
 * with their exact JSON-path messages.
 */
class LrPolicyTest {
    private static final double EPS = 1e-12;

    /** Parses {@code {"solver": {fields}}} and reads the policy of {@code solver}. */
    static LrPolicy policy(String fields) {
        return LrPolicy.parse(Json.parse("{\"solver\": {" + fields + "}}", "test").object("solver"));
    }

    static List<String> problems(String fields) {
        return assertThrows(ConfigException.class, () -> policy(fields)).problems();
    }

    @Test
    void fixedIsConstantAndTheDefaultPolicy() {
        LrPolicy p = policy("\"base_lr\": 0.01");
        assertEquals(LrPolicy.Policy.FIXED, p.policy());
        assertEquals(0.01, p.rate(0), EPS);
        assertEquals(0.01, p.rate(1_000_000), EPS);
        assertEquals(0.5, LrPolicy.fixed(0.5).rate(7), EPS);
    }

    @Test
    void stepDropsByGammaEveryStepsize() {
        LrPolicy p = policy("\"base_lr\": 0.01, \"lr_policy\": \"step\", \"gamma\": 0.1, \"stepsize\": 100");
        assertEquals(0.01, p.rate(0), EPS);
        assertEquals(0.01, p.rate(99), EPS);
        assertEquals(0.001, p.rate(100), EPS);
        assertEquals(0.001, p.rate(199), EPS);
        assertEquals(0.0001, p.rate(250), EPS);
    }

    @Test
    void exp() {
        LrPolicy p = policy("\"base_lr\": 0.01, \"lr_policy\": \"exp\", \"gamma\": 0.99");
        assertEquals(0.01, p.rate(0), EPS);
        assertEquals(0.009043820750088045, p.rate(10), EPS); // python: 0.01 * 0.99**10
    }

    @Test
    void invWithLenetSettings() {
        LrPolicy p = policy("\"base_lr\": 0.01, \"lr_policy\": \"inv\", \"gamma\": 1e-4, \"power\": 0.75");
        assertEquals(0.01, p.rate(0), EPS);
        assertEquals(0.009310124446222227, p.rate(1000), EPS);  // python: 0.01 * 1.1**-0.75
        assertEquals(0.005946035575013605, p.rate(10000), EPS); // python: 0.01 * 2**-0.75
    }

    @Test
    void multistepBoundaries() {
        LrPolicy p = policy("\"base_lr\": 0.8, \"lr_policy\": \"multistep\", \"gamma\": 0.5, "
                + "\"stepvalue\": [100, 300, 600]");
        assertEquals(0.8, p.rate(0), EPS);
        assertEquals(0.8, p.rate(99), EPS);
        assertEquals(0.4, p.rate(100), EPS);
        assertEquals(0.4, p.rate(299), EPS);
        assertEquals(0.2, p.rate(300), EPS);
        assertEquals(0.1, p.rate(600), EPS);
        assertEquals(0.1, p.rate(1_000_000), EPS);
    }

    @Test
    void multistepMatchesCaffesStatefulCounter() {
        int[] stepvalue = {3, 4, 10, 11, 50};
        LrPolicy p = policy("\"base_lr\": 1, \"lr_policy\": \"multistep\", \"gamma\": 0.5, "
                + "\"stepvalue\": [3, 4, 10, 11, 50]");
        // SGDSolver::GetLearningRate: at most one increment per iteration, iterations in order.
        int currentStep = 0;
        for (int iter = 0; iter < 80; iter++) {
            if (currentStep < stepvalue.length && iter >= stepvalue[currentStep]) {
                currentStep++;
            }
            assertEquals(Math.pow(0.5, currentStep), p.rate(iter), EPS, "iter " + iter);
        }
    }

    @Test
    void polyReachesZeroAtMaxIter() {
        LrPolicy p = policy("\"base_lr\": 0.1, \"lr_policy\": \"poly\", \"power\": 2, \"max_iter\": 1000");
        assertEquals(0.1, p.rate(0), EPS);
        assertEquals(0.025, p.rate(500), EPS);   // 0.1 * 0.5^2
        assertEquals(0.00625, p.rate(750), EPS); // 0.1 * 0.25^2
        assertEquals(0.0, p.rate(1000), EPS);
        assertEquals(0.0, p.rate(1001), 0.0, "no NaN past max_iter");
    }

    @Test
    void sigmoidIsHalfAtStepsize() {
        LrPolicy p = policy("\"base_lr\": 0.1, \"lr_policy\": \"sigmoid\", \"gamma\": -0.01, \"stepsize\": 500");
        assertEquals(0.09933071490757153, p.rate(0), EPS);    // python: 0.1 / (1 + exp(-5))
        assertEquals(0.05, p.rate(500), EPS);
        assertEquals(0.0006692850924284856, p.rate(1000), EPS); // python: 0.1 / (1 + exp(5))
    }

    @Test
    void cosineEndpointsAndMidpoints() {
        LrPolicy p = policy("\"base_lr\": 0.1, \"lr_policy\": \"cosine\", \"min_lr\": 0.001, \"max_iter\": 100");
        assertEquals(0.1, p.rate(0), EPS);
        assertEquals(0.0855017856687341, p.rate(25), EPS); // python: 0.001 + 0.099 * 0.5 * (1 + cos(pi / 4))
        assertEquals(0.0505, p.rate(50), EPS);
        assertEquals(0.001, p.rate(100), EPS);

        LrPolicy toZero = policy("\"base_lr\": 0.1, \"lr_policy\": \"cosine\", \"max_iter\": 10");
        assertEquals(0.0, toZero.rate(10), EPS);
        assertEquals(0.05, toZero.rate(5), EPS);
    }

    @Test
    void warmupRampsLinearlyFromTheStartFactor() {
        LrPolicy p = policy("\"base_lr\": 0.3, \"warmup_iter\": 10");
        assertEquals(1.0 / 3, p.warmupStartFactor(), EPS);
        assertEquals(0.1, p.rate(0), EPS);  // 0.3 / 3
        assertEquals(0.2, p.rate(5), EPS);  // 0.3 * (1/3 + 2/3 * 0.5)
        assertEquals(0.3, p.rate(10), EPS);
        assertEquals(0.3, p.rate(11), EPS);

        // The ramp multiplies the policy's own rate.
        LrPolicy step = policy("\"base_lr\": 1, \"lr_policy\": \"step\", \"gamma\": 0.5, \"stepsize\": 5, "
                + "\"warmup_iter\": 10, \"warmup_start_factor\": 0.1");
        assertEquals(0.1, step.rate(0), EPS);
        assertEquals(0.5 * (0.1 + 0.9 * 0.6), step.rate(6), EPS);
        assertEquals(0.25, step.rate(10), EPS);
    }

    @Test
    void policyNameIsCaseInsensitive() {
        assertEquals(LrPolicy.Policy.STEP,
                policy("\"base_lr\": 1, \"lr_policy\": \"STEP\", \"gamma\": 0.5, \"stepsize\": 5").policy());
    }

    // ---- config errors ---------------------------------------------------------------------------

    @Test
    void missingFieldsNameThePolicy() {
        assertEquals(List.of("solver.stepsize: required by lr_policy \"step\""),
                problems("\"base_lr\": 1, \"lr_policy\": \"step\", \"gamma\": 0.1"));
        assertEquals(List.of("solver.gamma: required by lr_policy \"step\""),
                problems("\"base_lr\": 1, \"lr_policy\": \"step\", \"stepsize\": 10"));
        assertEquals(List.of("solver.power: required by lr_policy \"poly\"",
                        "solver.max_iter: required by lr_policy \"poly\""),
                problems("\"base_lr\": 1, \"lr_policy\": \"poly\""));
        assertEquals(List.of("solver.stepvalue: required by lr_policy \"multistep\""),
                problems("\"base_lr\": 1, \"lr_policy\": \"multistep\", \"gamma\": 0.1"));
        assertEquals(List.of("solver.gamma: required by lr_policy \"inv\"", "solver.power: required by lr_policy \"inv\""),
                problems("\"base_lr\": 1, \"lr_policy\": \"inv\""));
        assertEquals(List.of("solver.max_iter: required by lr_policy \"cosine\""),
                problems("\"base_lr\": 1, \"lr_policy\": \"cosine\""));
        assertEquals(List.of("solver.base_lr: required number is missing"), problems("\"lr_policy\": \"fixed\""));
    }

    @Test
    void outOfRangeValues() {
        assertEquals(List.of("solver.stepsize: must be > 0, got 0"),
                problems("\"base_lr\": 1, \"lr_policy\": \"step\", \"gamma\": 0.1, \"stepsize\": 0"));
        assertEquals(List.of("solver.max_iter: must be > 0, got 0"),
                problems("\"base_lr\": 1, \"lr_policy\": \"cosine\", \"max_iter\": 0"));
        assertEquals(List.of("solver.gamma: must be > 0 for lr_policy \"exp\", got -0.5"),
                problems("\"base_lr\": 1, \"lr_policy\": \"exp\", \"gamma\": -0.5"));
        assertEquals(List.of("solver.base_lr: must be >= 0, got -0.1"), problems("\"base_lr\": -0.1"));
        assertEquals(List.of("solver.warmup_iter: must be >= 0, got -3",
                        "solver.warmup_start_factor: must be in [0, 1], got 1.5"),
                problems("\"base_lr\": 1, \"warmup_iter\": -3, \"warmup_start_factor\": 1.5"));
    }

    @Test
    void stepvalueMustIncreaseStrictly() {
        assertEquals(List.of("solver.stepvalue[1]: must be > stepvalue[0] (100), got 100"),
                problems("\"base_lr\": 1, \"lr_policy\": \"multistep\", \"gamma\": 0.1, \"stepvalue\": [100, 100]"));
        assertEquals(List.of("solver.stepvalue[2]: must be > stepvalue[1] (300), got 200"),
                problems("\"base_lr\": 1, \"lr_policy\": \"multistep\", \"gamma\": 0.1, \"stepvalue\": [100, 300, 200]"));
        assertEquals(List.of("solver.stepvalue[0]: must be >= 0, got -1"),
                problems("\"base_lr\": 1, \"lr_policy\": \"multistep\", \"gamma\": 0.1, \"stepvalue\": [-1]"));
    }

    @Test
    void unknownPolicyListsTheKnownOnes() {
        assertEquals(List.of("solver.lr_policy: expected one of [fixed, step, exp, inv, multistep, poly, sigmoid, cosine],"
                + " got \"linear\""), problems("\"base_lr\": 1, \"lr_policy\": \"linear\""));
    }

    @Test
    void wrongTypesNameThePath() {
        assertEquals(List.of("solver.stepsize: expected an integer, got string \"ten\""),
                problems("\"base_lr\": 1, \"lr_policy\": \"step\", \"gamma\": 0.1, \"stepsize\": \"ten\""));
    }

    @Test
    void negativeIterationIsABug() {
        assertThrows(IllegalArgumentException.class, () -> LrPolicy.fixed(1).rate(-1));
    }
}
