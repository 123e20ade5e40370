"""What runs around `GAN.fit`: the callbacks (sample and TensorBoard
`monitor`, the evaluation's `quality_monitor`, the NaN `guard`, the per-epoch
`backup`), TensorBoard writers (`summaries`), `tf.distribute` strategies
(`distribute`, `keras_distribution`) and the compile settings (`compile_settings`)."""
