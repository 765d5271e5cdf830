package org.cortado.engine.net;

/** Caffe's phases: a layer may be included in one of them only ({@code include: {phase: TEST}}). */
public enum Phase {
    TRAIN,
    TEST
}
