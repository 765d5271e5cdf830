package org.cortado.engine.data;

/**
 * Samples as the loader read them, before augmentation: what travels from loaders to augmenters.
 *
 * <p>Pixels keep the file's type when it is uint8 ({@code bytes}, {@code floats == null}): four times
 * less to move and copy; any other dtype arrives as float32 ({@code floats}, {@code bytes == null}).
 * Layout (B, C, H, W) row-major, B = {@code ids.length}.
 *
 * @param epoch       the epoch the batch belongs to
 * @param index       the batch's index in its epoch; with {@code epoch} it names the batch
 * @param ids         the sample ids (global row numbers in the shard set), in batch order
 * @param labels      class id per sample
 * @param sampleShape (C, H, W) of one sample; a source of (N, H, W) arrays has C = 1
 * @param bytes       uint8 pixels, or null
 * @param floats      float32 pixels, or null
 */
public record RawBatch(long epoch, int index, long[] ids, int[] labels, int[] sampleShape, byte[] bytes, float[] floats) {

    public RawBatch {
        if ((bytes == null) == (floats == null)) {
            throw new IllegalArgumentException("a raw batch holds exactly one of bytes and floats");
        }
        int per = sampleShape[0] * sampleShape[1] * sampleShape[2];
        int len = bytes != null ? bytes.length : floats.length;
        if (ids.length != labels.length || len != ids.length * per) {
            throw new IllegalArgumentException("raw batch of " + ids.length + " ids, " + labels.length
                    + " labels and " + len + " pixels does not fit sample shape " + java.util.Arrays.toString(sampleShape));
        }
    }

    public int size() {
        return ids.length;
    }

    public int sampleElements() {
        return sampleShape[0] * sampleShape[1] * sampleShape[2];
    }

    /** Pixel {@code i} (flat index) as a float, whatever the storage. */
    public float pixel(int i) {
        return bytes != null ? bytes[i] & 0xff : floats[i];
    }
}
