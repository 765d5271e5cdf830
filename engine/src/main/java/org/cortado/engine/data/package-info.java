/**
 * Reading training data: numpy and HDF5 arrays ({@link org.cortado.engine.data.ArrayReader}), shard
 * sets of such files, dataset import (IDX, image folders), statistics and sampling.
 *
 * <p>Readers hand out raw bytes in the file's dtype; {@link org.cortado.engine.data.DType} converts
 * them. uint8 pixels stay uint8 ({@link org.cortado.engine.data.RawBatch}) until augmentation
 * produces float32. Every malformed file raises {@link org.cortado.engine.DataFormatException}
 * naming the file and the offset, member or dataset.
 */
package org.cortado.engine.data;
