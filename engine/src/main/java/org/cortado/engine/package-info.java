/**
 * The Cortado engine: plain Java, no Vert.x (a test scans the module's classpath to keep it so).
 *
 * <ul>
 *   <li>{@code tensor}: float32 NCHW {@link org.cortado.engine.tensor.Tensor}s and Caffe's
 *       {@link org.cortado.engine.tensor.Blob} (data + diff).</li>
 *   <li>{@code ops}: the primitives layers are written against (GEMM, im2col/col2im, convolution,
 *       pooling, element-wise, reductions, softmax), each with a plain reference and a fast path.</li>
 *   <li>{@code layers}: one Caffe layer per file, forward and backward side by side.</li>
 *   <li>{@code net}: the DAG of layers over named blobs, built from the {@code net} part of a config.</li>
 *   <li>{@code fill}, {@code solver}: weight fillers, update rules and learning-rate policies.</li>
 *   <li>{@code io}: weights in Caffe's HDF5 layout, and the numpy subset the CLI needs.</li>
 *   <li>{@code config}: JSON read into immutable records, errors carrying JSON paths.</li>
 *   <li>{@code train}: the in-process {@code Trainer}, reference for the verticle pipeline.</li>
 * </ul>
 */
package org.cortado.engine;
