/**
 * Importing Caffe nets: {@link org.cortado.engine.caffe.PrototxtImport} turns a text-format
 * {@code NetParameter} ({@code .prototxt}) into a Cortado config, and
 * {@link org.cortado.engine.caffe.CaffemodelImport} turns binary weights ({@code .caffemodel}) into
 * Caffe's HDF5 layout for that config. Both read the messages with classes generated at build time
 * from Caffe's {@code caffe.proto} ({@code org.cortado.engine.caffe.proto.Caffe}).
 */
package org.cortado.engine.caffe;
