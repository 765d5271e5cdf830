/**
 * Data augmentation: the config's {@code augment} section ({@link org.cortado.engine.augment.Augmentation})
 * turned into per-phase {@link org.cortado.engine.augment.Augmenter}s that map raw uint8 or float32
 * sample batches to float32 network inputs.
 *
 * <h2>Config</h2>
 * <pre>
 *   "augment": {
 *     "train": [{"type": "pad", "pad": 4}, {"type": "random_crop", "size": 28}, {"type": "flip", "p": 0.5},
 *               {"type": "normalize", "mean": [72.9], "std": [90.0]}],
 *     "test":  [{"type": "normalize", "mean": [72.9], "std": [90.0]}]
 *   }
 * </pre>
 * Steps run in order. Sizes are {@code size} (one integer or {@code [h, w]}) or {@code size_h} and
 * {@code size_w}; "per channel" values are one value (all channels) or one per channel.
 * <table>
 *   <caption>Step types</caption>
 *   <tr><th>type</th><th>fields (defaults)</th><th>what it does</th></tr>
 *   <tr><td>{@code caffe}</td><td>{@code scale} 1, {@code mirror} false, {@code crop_size} 0,
 *       {@code mean_value} (per channel) or {@code mean_file} (.npy, (C,H,W))</td>
 *       <td>Caffe's {@code transform_param}: crop random in the train list, centered (rounded down) in
 *       the test list; mirror with p = 1/2; {@code (x - mean) * scale}, the mean file cropped with the image</td></tr>
 *   <tr><td>{@code pad}</td><td>{@code pad} (1, 2 or 4 integers, torchvision's order), {@code fill} 0
 *       (per channel), {@code padding_mode} constant / edge / reflect / symmetric</td><td>torchvision {@code Pad}</td></tr>
 *   <tr><td>{@code random_crop}</td><td>size; optional {@code pad}, {@code fill}, {@code padding_mode}</td>
 *       <td>torchvision {@code RandomCrop}</td></tr>
 *   <tr><td>{@code center_crop}</td><td>size</td><td>torchvision {@code CenterCrop} (offsets rounded half to even)</td></tr>
 *   <tr><td>{@code flip}</td><td>{@code p} 0.5, {@code horizontal} true</td>
 *       <td>torchvision {@code RandomHorizontalFlip} ({@code RandomVerticalFlip} with {@code horizontal: false})</td></tr>
 *   <tr><td>{@code random_resized_crop}</td><td>size, {@code scale} [0.08, 1], {@code ratio} [3/4, 4/3],
 *       {@code antialias} true</td><td>torchvision {@code RandomResizedCrop}, bilinear</td></tr>
 *   <tr><td>{@code color_jitter}</td><td>{@code brightness} 0, {@code contrast} 0 (a number v for
 *       [max(0, 1 - v), 1 + v], or [min, max]), {@code max} (255 for uint8 input, 1 for float, times
 *       earlier {@code scale} steps)</td><td>torchvision {@code ColorJitter} (brightness, contrast), clamped to [0, max]</td></tr>
 *   <tr><td>{@code scale}</td><td>{@code scale} (required)</td><td>{@code x * scale}</td></tr>
 *   <tr><td>{@code normalize}</td><td>{@code mean}, {@code std} (required, per channel), {@code scale} 1</td>
 *       <td>{@code (x * scale - mean) / std}: mean and std in the units after {@code scale}</td></tr>
 *   <tr><td>{@code random_erasing}</td><td>{@code p} 0.5, {@code scale} [0.02, 0.33], {@code ratio}
 *       [0.3, 3.3], {@code value} 0 (per channel, or "random")</td><td>torchvision {@code RandomErasing}</td></tr>
 * </table>
 * Each step's class states its exact formula and the order of its random draws. Every error names
 * the JSON path ({@code augment.train[1].size: must be > 0, got 0}); a step that does not fit the
 * input (a crop larger than the image) is reported by
 * {@link org.cortado.engine.augment.Augmentation#augmenter}, before training starts.
 *
 * <h2>Determinism</h2>
 * The draws of step {@code k} for sample {@code id} in epoch {@code e} come from a SplitMix64 stream
 * seeded by mixing {@code (seed, phase, e, id, k)}: independent of batch composition, order and
 * threads, so a resumed run continues exactly and adding a step does not change the others' draws.
 * These are Cortado's own draws: the same config under torchvision draws other crops; what matches
 * torchvision (and Caffe) is the transform given the draws, which the tests check.
 *
 * <h2>uint8 and float</h2>
 * uint8 stays uint8 through the geometric steps (pad, crops, flip, resized crop, whose uint8 result
 * is rounded as torchvision's is) and becomes float32 once, in the pass of the first arithmetic step
 * ({@code scale}, {@code normalize}, {@code caffe}, {@code color_jitter}, {@code random_erasing}) or
 * at the end. Float32 input goes through the same steps; for integer-valued input both give the same
 * output. The output is always float32.
 *
 * <h2>Speed</h2>
 * A run of geometric steps and the per-channel affine steps after it is one pass per image (see
 * {@code Plan}): padding is a read outside the image, crops and flips are index tables, so
 * pad + random crop + flip + normalize reads each output pixel's source once and writes it once.
 * {@link org.cortado.engine.augment.AugmentBenchmark} measures it.
 */
package org.cortado.engine.augment;
