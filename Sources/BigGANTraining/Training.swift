// BigGANTraining: the training side of the project (issue 4).
//
// Layers with forward (training mode) and backward passes, all NHWC `[B, H, W, C]` with
// parameters in PyTorch layouts (`Parameter`, `ParameterContainer`, `Mode`):
//   ConvLayer (3×3 / 1×1, on oneDNN with its exact upsample+conv and conv+avgpool
//   rewrites), LinearLayer, EmbeddingLayer, SpectralNorm, BatchNormLayer / ConditionalBNLayer
//   (BatchNormCore), AttentionLayer, Pointwise (ReLU, tanh, upsample, average/max/sum pooling).
// Models: TrainableGenerator (+ GeneratorExport to the engine's checkpoint format),
// DiscriminatorConfig, Discriminator (DiscriminatorBlock, ProjectionHead).
// Optimisation: HingeLoss, Adam, ExponentialMovingAverage, Orthogonal (init and regulariser),
// Trainer (D and G steps), TrainingCheckpoint (save / resume); timing through the engine's Profiler.
//
// Threading: every GEMM is issued from the calling thread (cut into pieces on the engine's workers); the
// copy and reduction loops use the engine's `Parallel` between GEMMs; reductions are chunked
// independently of the thread count so results are reproducible.
