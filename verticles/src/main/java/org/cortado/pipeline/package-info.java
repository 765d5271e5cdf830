/**
 * The training pipeline as Vert.x verticles: {@link org.cortado.pipeline.CoordinatorVerticle} (sampler,
 * prefetch, re-requests, duplicates, steps, test passes, snapshots, control, metrics),
 * {@link org.cortado.pipeline.ShardLoaderVerticle} (behind one {@link org.cortado.pipeline.LoaderGate}
 * per node), {@link org.cortado.pipeline.AugmenterVerticle},
 * {@link org.cortado.pipeline.StageVerticle} (a slice of the net, GPipe micro-batches) and
 * {@link org.cortado.pipeline.OptimizerVerticle} (the solver), and on a GPU
 * {@link org.cortado.pipeline.GpuVerticle} (the CUDA context; the stages' layers then run as
 * {@link org.cortado.pipeline.StageNet.Cuda}, the update as {@code CudaSolver}). They exchange
 * {@link org.cortado.pipeline.TensorMessage}s through {@link org.cortado.pipeline.TensorCodec} at the
 * addresses of {@link org.cortado.pipeline.Addresses}; {@link org.cortado.pipeline.Pipeline} prepares
 * and deploys a run. Verticles are thin: reading, augmenting, forward, backward and updates are the
 * engine's ({@code org.cortado.engine}); every verticle is a worker, so no compute runs on an event loop.
 * Threads: the stages and the optimizer share one compute thread (their loops use every core from
 * there, on one OpenMP team); the loaders, the augmenters and the coordinator share the data threads
 * ({@code pipeline.data_threads}). Messages between verticles on one thread are queued tasks, not
 * thread wake-ups. On a GPU every GPU call goes through the device's own thread.
 */
package org.cortado.pipeline;
